"""Pooling of response maps over a grid of cells."""

import functools
from dataclasses import dataclass

import numpy as np

__all__ = ["STATS", "Pooling", "cell_bounds", "max_stride"]

STATS = ("mean", "max", "std")
# Samples per pooling cell (per axis) required on a coarse grid.
MIN_SAMPLES = 4


def cell_bounds(n, g):
    """Boundaries of ``g`` cells on ``n`` samples: cell ``a`` is ``[a n // g, (a + 1) n // g)``."""
    return np.array([(i * n) // g for i in range(g + 1)])


def max_stride(bounds):
    """Largest power-of-two stride that divides every cell boundary and
    leaves at least MIN_SAMPLES samples per cell along the axis."""
    min_cell = int(np.min(np.diff(bounds)))
    s = 1
    while np.all(bounds % (2 * s) == 0) and 2 * s <= min_cell // MIN_SAMPLES:
        s *= 2
    return s


def _reduce(cells, stat, axes):
    if stat == "mean":
        return cells.mean(axis=axes)
    if stat == "max":
        return cells.max(axis=axes)
    return cells.std(axis=axes)


def _mean_matrix(bounds, n, dtype):
    """``(len(bounds) - 1, n)`` matrix averaging samples ``[bounds[a], bounds[a + 1])``
    (read-only: one copy per grid, size and dtype)."""
    return _cached_mean_matrix(tuple(int(b) for b in bounds), int(n), np.dtype(dtype).str)


@functools.lru_cache(maxsize=64)
def _cached_mean_matrix(bounds, n, dtype):
    m = np.zeros((len(bounds) - 1, n), dtype)
    for a in range(len(bounds) - 1):
        m[a, bounds[a] : bounds[a + 1]] = 1.0 / (bounds[a + 1] - bounds[a])
    m.flags.writeable = False
    return m


@dataclass(frozen=True)
class Pooling:
    """Statistics ``stats`` over the cells of the grid ``bounds_h x bounds_w``."""

    bounds_h: np.ndarray
    bounds_w: np.ndarray
    stats: tuple

    @property
    def grid(self):
        return len(self.bounds_h) - 1, len(self.bounds_w) - 1

    def max_strides(self):
        """The coarsest sampling ``(sh, sw)`` that keeps the cells whole."""
        return max_stride(self.bounds_h), max_stride(self.bounds_w)

    def means_last(self, maps, stride=(1, 1)):
        """Cell means of maps on the last axis: ``(f, Hc, Wc, n)`` -> ``(f, gh, gw, n)``,
        as two matrix products over all ``n`` maps at once (rounding differs
        from :meth:`__call__` in the last bits)."""
        bounds_h, bounds_w = self.bounds_h // stride[0], self.bounds_w // stride[1]
        f, Hc, Wc, n = maps.shape
        gh, gw = self.grid
        ph = _mean_matrix(bounds_h, Hc, maps.dtype)
        pw = _mean_matrix(bounds_w, Wc, maps.dtype)
        rows = np.matmul(ph, maps.reshape(f, Hc, Wc * n))  # (f, gh, Wc * n)
        return np.matmul(pw, rows.reshape(f * gh, Wc, n)).reshape(f, gh, gw, n)

    def __call__(self, maps, stride=(1, 1)):
        """Cell statistics over the last two axes: ``(..., gh, gw, n_stats)``.

        ``maps`` may be sampled every ``stride`` pixels (reduced resolution),
        the cells then span ``bounds // stride`` samples.
        """
        bounds_h, bounds_w = self.bounds_h // stride[0], self.bounds_w // stride[1]
        Hc, Wc = maps.shape[-2:]
        gh, gw = self.grid
        lead = maps.shape[:-2]
        out = np.empty(lead + (gh, gw, len(self.stats)), dtype=maps.dtype)
        uniform = (
            Hc % gh == 0
            and Wc % gw == 0
            and np.array_equal(bounds_h, np.arange(gh + 1) * (Hc // gh))
            and np.array_equal(bounds_w, np.arange(gw + 1) * (Wc // gw))
        )
        if uniform:
            v = maps.reshape(lead + (gh, Hc // gh, gw, Wc // gw))
            for j, stat in enumerate(self.stats):
                out[..., j] = _reduce(v, stat, (-3, -1))
            return out
        for a in range(gh):
            for b in range(gw):
                cell = maps[..., bounds_h[a] : bounds_h[a + 1], bounds_w[b] : bounds_w[b + 1]]
                for j, stat in enumerate(self.stats):
                    out[..., a, b, j] = _reduce(cell, stat, (-2, -1))
        return out
