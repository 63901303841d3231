"""The order of the feature columns, in one place.

:class:`FeatureLayout` is the only code that knows which column holds what:
the views that the feature computation writes into, the cascade paths, the
left-right mirror permutation and the feature names all come from it.

The full layout (before ``flip_invariant`` keeps one column per mirror orbit)
is, in C order:

* first order (if asked for): ``n_filters x n_parts x n_channels x gh x gw
  x n_stats``;
* second order (if asked for): ``n_pairs x n_channels x gh x gw x n_stats``,
  the pairs ``(i, j)`` of the cascade paths in the order of
  :func:`cascade_paths`.
"""

from dataclasses import dataclass, replace

import numpy as np

__all__ = ["CascadePath", "FeatureLayout", "cascade_paths", "kernel_labels"]


@dataclass(frozen=True)
class CascadePath:
    """The second-order paths from the kernels ``first`` (one frequency) to
    every kernel ``second`` of a lower frequency: pair ``(first[a],
    second[b])`` is pair number ``offset + a * len(second) + b``."""

    first: np.ndarray
    second: np.ndarray
    offset: int

    def pair_index(self, a, b):
        return self.offset + a * len(self.second) + b

    def pairs(self):
        return [(int(i), int(j)) for i in self.first for j in self.second]


def cascade_paths(frequencies, cascade=None):
    """The cascade paths of a bank whose kernel ``k`` has ``frequencies[k]``.

    For each frequency ``f1`` (ascending) with a lower one, the path from its
    kernels to the kernels of every frequency below ``f1`` (in bank order).
    ``cascade`` (a boolean mask over the kernels, None for all) restricts both
    layers to the kernels where it is true.
    """
    kfreq = np.asarray(frequencies)
    member = np.ones(len(kfreq), bool) if cascade is None else np.asarray(cascade, bool)
    paths, offset = [], 0
    for f1 in np.unique(kfreq[member]):
        second = np.flatnonzero(member & (kfreq < f1))
        if second.size == 0:
            continue
        first = np.flatnonzero(member & (kfreq == f1))
        paths.append(CascadePath(first, second, offset))
        offset += first.size * second.size
    return tuple(paths)


def _labels(values):
    """Shortest ``%g`` strings (at least 4 significant digits) that tell the
    distinct ``values`` apart; each string, read back, is nearest its value."""
    distinct = len(set(values))
    for digits in range(4, 18):
        out = [f"{v:.{digits}g}" for v in values]
        if len(set(out)) == distinct:
            return out
    return [repr(float(v)) for v in values]  # unreachable: 17 digits identify a double


def kernel_labels(params):
    """``'f{frequency}_theta{degrees}'`` for every kernel of a bank."""
    freqs = _labels([p["frequency"] for p in params])
    degs = _labels([float(np.degrees(p["theta"])) for p in params])
    return [f"f{f}_theta{d}" for f, d in zip(freqs, degs)]


@dataclass(frozen=True)
class FeatureLayout:
    """Which column holds which feature (see the module docstring).

    ``flip`` is None or, for mirror-averaged output, the ``(n_out, 2)``
    array of the full-layout columns averaged into each output column.
    """

    n_filters: int
    parts: tuple
    channels: tuple
    grid: tuple
    stats: tuple
    first_order: bool
    paths: tuple
    flip: np.ndarray = None

    @classmethod
    def build(cls, frequencies, parts, channels, grid, stats, orders, cascade=None):
        """The layout of a bank with kernel frequencies ``frequencies`` (and
        the kernels ``cascade`` of its second order, see :func:`cascade_paths`)."""
        paths = cascade_paths(frequencies, cascade) if 2 in orders else ()
        return cls(len(frequencies), tuple(parts), tuple(channels), tuple(grid),
                   tuple(stats), 1 in orders, paths)

    # ----------------------------------------------------------------- sizes
    @property
    def _cell_shape(self):
        return (len(self.channels),) + self.grid + (len(self.stats),)

    @property
    def pairs(self):
        return [pair for path in self.paths for pair in path.pairs()]

    @property
    def n_pairs(self):
        return sum(len(p.first) * len(p.second) for p in self.paths)

    @property
    def n_first(self):
        if not self.first_order:
            return 0
        return self.n_filters * len(self.parts) * int(np.prod(self._cell_shape))

    @property
    def n_full(self):
        return self.n_first + self.n_pairs * int(np.prod(self._cell_shape))

    @property
    def n_out(self):
        return self.n_full if self.flip is None else len(self.flip)

    def layer_one_filters(self):
        """Kernels whose first-order response is needed (output or cascade)."""
        if self.first_order:
            return np.arange(self.n_filters)
        return self.cascade_inputs()

    def cascade_inputs(self):
        """Kernels whose first-order modulus feeds a cascade path (ascending)."""
        if not self.paths:
            return np.zeros(0, dtype=int)
        return np.unique(np.concatenate([p.first for p in self.paths]))

    # ----------------------------------------------------------------- views
    def views(self, a):
        """Views of a full-layout array ``(m, n_full)``: the first-order block
        ``(m, n_filters, n_parts, n_channels, gh, gw, n_stats)`` and the
        second-order block ``(m, n_pairs, n_channels, gh, gw, n_stats)``
        (None for an order not asked for)."""
        m = a.shape[0]
        first = second = None
        if self.first_order:
            first = a[:, : self.n_first].reshape(
                (m, self.n_filters, len(self.parts)) + self._cell_shape
            )
        if self.paths:
            second = a[:, self.n_first :].reshape((m, self.n_pairs) + self._cell_shape)
        return first, second

    # ------------------------------------------------------------------ flip
    def with_flip(self, mirror):
        """The mirror-averaged layout, for the kernel mirror map ``mirror``.

        The full-layout permutation ``perm`` with ``F(flip x) = F(x)[perm]``
        maps first-order column (kernel k, part, channel, cell (a, b), stat)
        to (``mirror[k]``, part, channel, (a, gw - 1 - b), stat) and the
        cascade column of pair (i, j) to the pair (``mirror[i]``,
        ``mirror[j]``) with the same cell mirror. One column is kept per
        orbit ``{k, perm[k]}``: the smaller index, in the original order.
        """
        perm = []
        if self.first_order:
            first = np.arange(self.n_first).reshape(
                (self.n_filters, len(self.parts)) + self._cell_shape
            )
            perm.append(first[mirror][:, :, :, :, ::-1].ravel())
        if self.paths:
            pairs = self.pairs
            where = {pair: q for q, pair in enumerate(pairs)}
            qmirror = np.array([where[(mirror[i], mirror[j])] for i, j in pairs])
            second = self.n_first + np.arange(self.n_full - self.n_first).reshape(
                (len(pairs),) + self._cell_shape
            )
            perm.append(second[qmirror][:, :, :, ::-1].ravel())
        perm = np.concatenate(perm)
        keep = np.flatnonzero(np.arange(perm.size) <= perm)
        return replace(self, flip=np.stack([keep, perm[keep]], axis=1))

    def symmetrize(self, full, out):
        """``out = (full[:, k] + full[:, perm[k]]) / 2`` for the kept columns."""
        np.add(full[:, self.flip[:, 0]], full[:, self.flip[:, 1]], out=out)
        out *= out.dtype.type(0.5)

    # ----------------------------------------------------------------- names
    def names(self, labels):
        """Feature names, given the label of every kernel (:func:`kernel_labels`)."""
        cells = [
            f"_{ch}_cell{a}-{b}_{stat}"
            for ch in self.channels
            for a in range(self.grid[0])
            for b in range(self.grid[1])
            for stat in self.stats
        ]
        names = []
        if self.first_order:
            for label in labels:
                for part in self.parts:
                    head = f"{label}_{part}" if part else label
                    names += [head + cell for cell in cells]
        for i, j in self.pairs:
            head = f"{labels[i]}_{labels[j]}"
            names += [head + cell for cell in cells]
        if self.flip is not None:
            names = [names[k] + "_lrmean" for k in self.flip[:, 0]]
        return names
