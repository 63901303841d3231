"""Dense colour-Gabor dictionary encoding of image patches (a single-layer encoder)."""

from numbers import Integral, Real

import numpy as np
from joblib import Parallel, delayed
from numpy.lib.stride_tricks import sliding_window_view
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import check_random_state, gen_batches
from sklearn.utils.random import sample_without_replacement
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from ._engine import cell_bounds, effective_threads
from ._kernels import color_atoms, gabor_atom, opponent_color_directions
from .utils._atomic import restore_on_failure
from .utils._estimator import SklearnGaborMixin
from .utils._images import resolve_image_shape, validate_images
from .utils._sklearn_compat import (
    Interval,
    StrOptions,
    _check_feature_names_in,
    _fit_context,
)

__all__ = ["GaborPatchEncoder"]

# (positions x atoms) block computed at once: small enough to stay in cache
_BLOCK_BYTES = 1 << 20
_MIN_BLOCK_ROWS = 64


class GaborPatchEncoder(TransformerMixin, SklearnGaborMixin, BaseEstimator):
    r"""Encode every image patch on a dictionary of colour Gabor atoms, then pool.

    Each row of ``X`` is an image flattened in C order from ``(H, W)`` or
    ``(H, W, C)``. Every ``h x w`` patch (stride 1, ``P = (H - h + 1)(W - w + 1)``
    positions), flattened to ``p`` of length ``d = h w C`` (row, column,
    channel), goes through

    1. brightness and contrast normalization,
       ``\tilde p = (p - \bar p) / \sqrt{\operatorname{var}(p) + \epsilon_c}``
       (mean and variance over the ``d`` values; ``contrast_eps`` is
       ``\epsilon_c``);
    2. ZCA whitening fitted in :meth:`fit`, ``u = W (\tilde p - \mu)`` with
       ``W = U (\Lambda + \epsilon_w I)^{-1/2} U^T`` from the eigendecomposition
       ``\Sigma = U \Lambda U^T`` of the covariance of normalized training
       patches (``whitening_eps`` is ``\epsilon_w``);
    3. projection on ``K`` unit-norm atoms ``D`` (rows of ``dictionary_``),
       ``z = D u``, computed as one matrix product with the whitening folded
       into the filters, ``z = \tilde p\, (W D^T) - \mu W D^T``;
    4. soft-threshold encoding of both polarities, ``max(0, z - t)`` and
       ``max(0, -z - t)`` (``threshold`` is ``t``);
    5. sum pooling over a grid of cells of patch positions (``pool_grid``,
       default the four quadrants) and an optional square root;
    6. with ``flip_invariant=True``, the average ``(f(x) + f(x^\leftrightarrow)) / 2``
       of the features of the image and of its left-right mirror image.

    The atoms are Gabor functions on the patch grid (see
    :func:`sklearn_gabor._kernels.gabor_atom`),
    ``a(x, y) = \exp(-(x'^2 + y'^2) / 2\sigma^2) \cos(2\pi f x' + \varphi)``,
    for every envelope width ``sigma`` in ``sigmas``, a Gaussian blob
    (``f = 0``) and every frequency x orientation x phase, each multiplied by
    every colour vector of ``colors`` and normalized; they live in the
    whitened space, where whitening has equalized the patch spectrum.
    The filters are fixed: only the normalization statistics (``mean_``,
    ``whitening_``) are estimated from ``X`` in :meth:`fit`.

    Parameters
    ----------
    image_shape : tuple of int, default=None
        ``(H, W)`` or ``(H, W, C)`` with ``H * W * C == n_features``. ``None``
        takes a square grayscale image when ``n_features`` is a square and a
        one-row strip ``(1, n_features)`` otherwise.
    patch_size : int or (int, int), default=6
        Patch height and width in pixels (clipped to the image, see
        ``patch_shape_``).
    frequencies : float or sequence of float, default=(0.15, 0.3, 0.45)
        Atom frequencies in cycles per pixel, each in ``(0, 0.5]``; may be
        empty (blobs only).
    n_orientations : int, default=8
        Orientations ``theta_j = j pi / n_orientations``.
    n_phases : int, default=2
        Phases ``phi_k = k pi / n_phases`` (2: the even cosine and the odd
        sine atom; with both polarities of the code this covers all four
        quadrature phases).
    sigmas : float or sequence of float, default=(1.0, 2.0)
        Envelope standard deviations in pixels.
    aspect_ratio : float, default=1.0
        ``sigma_y / sigma_x`` of the envelope (> 1 elongates the atoms along
        their stripes).
    blob : bool, default=True
        Include the Gaussian blob (``f = 0``) at each envelope width.
    colors : 'auto' or array-like of shape (n_colors, C), default='auto'
        Colour vectors the spatial atoms are multiplied by. 'auto': for 3
        channels 19 of the 25 vectors of
        :func:`sklearn_gabor._kernels.opponent_color_directions`: luminance,
        the 6 directions of a half circle of the opponent-colour plane (the
        other 6 are their negatives, whose codes the two polarities already
        give) and all 12 directions mixed with luminance; otherwise the single
        vector ``(1, ..., 1)``.
    contrast_eps : float, default=10.0
        ``epsilon_c`` of the patch normalization, in squared input units
        (10 suits 0-255 images, as 8-bit integer ``X`` is read; use about
        ``10 / 255**2`` for images in ``[0, 1]``).
    whitening_eps : float, default=0.1
        ``epsilon_w`` added to the covariance eigenvalues (the normalized
        patch values have variance about 1); larger values whiten less.
    n_whitening_patches : int, default=200_000
        Patches drawn at random (without replacement) from ``X`` to fit the
        whitening; all of them when ``X`` has fewer.
    threshold : float, default=0.25
        ``t`` of the soft threshold (>= 0).
    pool_grid : tuple of (int, int), default=(2, 2)
        Cells of the ``(H - h + 1, W - w + 1)`` grid of positions along the
        rows and columns; cell ``a`` spans positions
        ``[a n // g, (a + 1) n // g)``. Clipped to the grid (``pool_grid_``).
    compression : {'none', 'sqrt'}, default='none'
        Square root of the pooled (non-negative) sums.
    flip_invariant : bool, default=False
        Average every feature with the one the left-right mirror image would
        give, which gives a linear model what training on mirrored copies
        would, without doubling the training set. No mirrored image is
        encoded: the mirror of a patch projected on atom ``a`` is the patch
        projected on the mirrored atom (``theta -> pi - theta``, for the odd
        atom at ``theta = 0`` with the opposite sign, so the other polarity),
        at the mirrored position; the whitening is fitted on the sampled
        patches and their mirror images, so that it commutes with the mirror,
        and the cells of the mirrored image are pooled from the same codes.
        Needs a dictionary closed under the mirror (true of every Gabor
        dictionary built here).
    batch_size : int, default=64
        Images encoded at once; the working set grows with it, not with
        ``n_samples``.
    n_jobs : int, default=None
        Threads encoding batches in parallel; BLAS runs single-threaded
        inside each (the per-block matrix products are too small to gain from
        BLAS threads). ``None`` means 1, -1 all cores.
    random_state : int, RandomState instance or None, default=None
        Draws the whitening patches.

    Attributes
    ----------
    image_shape_ : tuple of int
        ``(H, W, C)``.
    patch_shape_ : tuple of int
        ``(h, w)`` used.
    pool_grid_ : tuple of int
        Pooling grid used.
    mean_ : ndarray of shape (d,)
        Mean of the normalized training patches, ``mu``.
    whitening_ : ndarray of shape (d, d)
        The symmetric ZCA matrix ``W``.
    eigenvalues_ : ndarray of shape (d,)
        Eigenvalues of the normalized patch covariance (ascending).
    dictionary_ : ndarray of shape (n_atoms, d)
        Unit-norm atoms ``D`` in the whitened space.
    filters_ : ndarray of shape (d, n_atoms)
        ``W D^T`` in float32, applied to normalized patches.
    atom_params_ : list of dict
        Per atom: ``sigma``, ``frequency`` (0 for a blob), ``theta``,
        ``phase``, ``color``.
    mirror_atoms_ : ndarray of shape (n_atoms,) or None
        With ``flip_invariant``: the atom that is the left-right mirror image
        of each atom, up to the sign in ``mirror_signs_``; otherwise None.
    mirror_signs_ : ndarray of shape (n_atoms,) or None
        ``+1`` or ``-1``: ``mirror(D[a]) = mirror_signs_[a] D[mirror_atoms_[a]]``.
    n_features_in_ : int
        Number of features seen during :term:`fit`.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit` (string column names only).

    Notes
    -----
    The output has ``n_atoms x 2 x gh x gw`` float32 columns in that order
    (polarity 'pos' = ``max(0, z - t)``, then 'neg'). With the defaults on
    32 x 32 x 3 images: 2 x (1 + 3 x 8 x 2) x 19 = 1,862 atoms and 14,896
    features. Encoding costs one ``(P, d) x (d, n_atoms)`` matrix product per
    image; the threshold and pooling run on blocks of that product small
    enough to stay in cache. Integer ``X`` must hold values in [0, 255] and is
    used as is; float ``X`` is used as is. NaN, infinity and sparse input are
    rejected.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_gabor import GaborPatchEncoder
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randint(0, 256, size=(20, 12 * 12 * 3)).astype(np.uint8)
    >>> enc = GaborPatchEncoder(image_shape=(12, 12, 3), frequencies=(0.25,),
    ...                         n_orientations=4, sigmas=(1.5,), random_state=0)
    >>> F = enc.fit_transform(X)
    >>> F.shape, F.dtype  # (1 + 4 x 2) atoms x 19 colours x 2 polarities x 4 cells
    ((20, 1368), dtype('float32'))
    """

    _parameter_constraints: dict = {
        "image_shape": ["array-like", None],
        "patch_size": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "frequencies": [Interval(Real, 0, 0.5, closed="right"), "array-like"],
        "n_orientations": [Interval(Integral, 1, None, closed="left")],
        "n_phases": [Interval(Integral, 1, None, closed="left")],
        "sigmas": [Interval(Real, 0, None, closed="neither"), "array-like"],
        "aspect_ratio": [Interval(Real, 0, None, closed="neither")],
        "blob": ["boolean"],
        "colors": [StrOptions({"auto"}), "array-like"],
        "contrast_eps": [Interval(Real, 0, None, closed="neither")],
        "whitening_eps": [Interval(Real, 0, None, closed="neither")],
        "n_whitening_patches": [Interval(Integral, 1, None, closed="left")],
        "threshold": [Interval(Real, 0, None, closed="left")],
        "pool_grid": ["array-like"],
        "compression": [StrOptions({"none", "sqrt"})],
        "flip_invariant": ["boolean"],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "n_jobs": [
            Interval(Integral, 1, None, closed="left"),
            Interval(Integral, None, -1, closed="right"),
            None,
        ],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        image_shape=None,
        *,
        patch_size=6,
        frequencies=(0.15, 0.3, 0.45),
        n_orientations=8,
        n_phases=2,
        sigmas=(1.0, 2.0),
        aspect_ratio=1.0,
        blob=True,
        colors="auto",
        contrast_eps=10.0,
        whitening_eps=0.1,
        n_whitening_patches=200_000,
        threshold=0.25,
        pool_grid=(2, 2),
        compression="none",
        flip_invariant=False,
        batch_size=64,
        n_jobs=None,
        random_state=None,
    ):
        self.image_shape = image_shape
        self.patch_size = patch_size
        self.frequencies = frequencies
        self.n_orientations = n_orientations
        self.n_phases = n_phases
        self.sigmas = sigmas
        self.aspect_ratio = aspect_ratio
        self.blob = blob
        self.colors = colors
        self.contrast_eps = contrast_eps
        self.whitening_eps = whitening_eps
        self.n_whitening_patches = n_whitening_patches
        self.threshold = threshold
        self.pool_grid = pool_grid
        self.compression = compression
        self.flip_invariant = flip_invariant
        self.batch_size = batch_size
        self.n_jobs = n_jobs
        self.random_state = random_state

    # ------------------------------------------------------------------ input
    def _resolve_shapes(self, n_features):
        shape = resolve_image_shape(self.image_shape, n_features)
        H, W, _ = shape
        patch = _int_pair(self.patch_size, "patch_size")
        patch = (min(patch[0], H), min(patch[1], W))
        positions = (H - patch[0] + 1, W - patch[1] + 1)
        grid = _int_pair(self.pool_grid, "pool_grid")
        grid = (min(grid[0], positions[0]), min(grid[1], positions[1]))
        return shape, patch, positions, grid

    def _resolve_colors(self, C):
        if isinstance(self.colors, str):
            if C == 3:
                colors, names = opponent_color_directions(12)
                # drop opp 180 .. 330 degrees: each is minus one of opp 0 .. 150, and an
                # atom's negative gives the same two codes, swapped
                keep = np.r_[0:7, 13:25]
                return colors[keep], [names[k] for k in keep]
            return np.ones((1, C)), ["lum"]
        colors = np.asarray(self.colors, dtype=float)
        if colors.ndim == 1:
            colors = colors[None, :]
        if (
            colors.ndim != 2 or colors.shape[1] != C or colors.shape[0] == 0
            or not np.all(np.isfinite(colors)) or np.any(~colors.any(axis=1))
        ):
            raise ValueError(
                f"colors must be 'auto' or a finite array of shape (n_colors, C={C}) "
                f"with no all-zero row; got an array of shape {colors.shape}."
            )
        return colors, [f"c{k}" for k in range(colors.shape[0])]

    def _spatial_atoms(self, patch):
        freqs = np.atleast_1d(np.asarray(self.frequencies, dtype=float))
        sigmas = np.atleast_1d(np.asarray(self.sigmas, dtype=float))
        if freqs.ndim != 1 or not np.all(np.isfinite(freqs) & (freqs > 0) & (freqs <= 0.5)):
            raise ValueError(
                "frequencies must be a 1-D sequence of values in (0, 0.5] cycles per "
                f"pixel; got {self.frequencies!r}."
            )
        if sigmas.ndim != 1 or sigmas.size == 0 or not np.all(np.isfinite(sigmas) & (sigmas > 0)):
            raise ValueError(
                f"sigmas must be a non-empty 1-D sequence of values > 0; got {self.sigmas!r}."
            )
        if freqs.size == 0 and not self.blob:
            raise ValueError("The dictionary is empty: give frequencies or set blob=True.")
        thetas = np.arange(self.n_orientations) * np.pi / self.n_orientations
        phases = np.arange(self.n_phases) * np.pi / self.n_phases
        specs = []
        for s in sigmas:
            if self.blob:
                specs.append((float(s), 0.0, 0.0, 0.0))
            specs += [(float(s), float(f), float(t), float(p))
                      for f in freqs for t in thetas for p in phases]
        atoms = np.stack([
            gabor_atom(patch, f, t, sigma_x=s, sigma_y=s * self.aspect_ratio, phase=p)
            for s, f, t, p in specs
        ])
        # a carrier that vanishes on every pixel (an odd atom across a one-pixel
        # patch) leaves rounding noise, which normalization would blow up: zero
        atoms[np.abs(atoms).max(axis=(1, 2)) < 1e-9] = 0.0
        return atoms, specs

    # -------------------------------------------------------------------- fit
    @_fit_context(prefer_skip_nested_validation=True)
    @restore_on_failure
    def fit(self, X, y=None):
        """Fit the patch whitening on random patches of ``X`` and build the filters.

        Parameters
        ----------
        X : array-like of shape (n_samples, H * W * C)
            Flattened images.
        y : None
            Ignored.

        Returns
        -------
        self : GaborPatchEncoder
            The fitted encoder.
        """
        X = validate_images(self, X, reset=True)
        shape, patch, positions, grid = self._resolve_shapes(X.shape[1])
        colors, color_names = self._resolve_colors(shape[2])
        spatial, specs = self._spatial_atoms(patch)
        images = X.reshape((-1,) + shape)
        sample = _patches_at(images, patch, self._whitening_sample(len(X), positions))
        mirror = _patch_mirror(patch, shape[2])
        if self.flip_invariant:  # statistics that commute with the mirror
            sample = np.concatenate([sample, sample[:, mirror]])
        sample = _normalize(sample.astype(np.float64), self.contrast_eps)
        mean = sample.mean(axis=0)
        sample -= mean
        cov = sample.T @ sample / len(sample)
        eigval, eigvec = np.linalg.eigh(cov)
        eigval = np.clip(eigval, 0.0, None)
        whitening = (eigvec / np.sqrt(eigval + self.whitening_eps)) @ eigvec.T
        dictionary = color_atoms(spatial, colors)
        filters = whitening @ dictionary.T
        partners = _mirror_partners(dictionary, mirror) if self.flip_invariant else None

        self.image_shape_ = shape
        self.patch_shape_ = patch
        self.pool_grid_ = grid
        self.mean_ = mean
        self.whitening_ = whitening
        self.eigenvalues_ = eigval
        self.dictionary_ = dictionary
        self.filters_ = np.ascontiguousarray(filters, dtype=np.float32)
        self.atom_params_ = [
            {"sigma": s, "frequency": f, "theta": t, "phase": p, "color": c}
            for s, f, t, p in specs for c in color_names
        ]
        self.mirror_atoms_, self.mirror_signs_ = (None, None) if partners is None else partners
        self._bias = (mean @ filters).astype(np.float32)
        if self.flip_invariant:
            # pool over the cells refined by their mirror images, then sum the
            # pieces into the cells (f(x)) and into the mirrored cells (f of
            # the mirror image, with the mirrored atoms)
            self._cells, self._pieces = _mirror_cell_layout(positions, grid)
        else:
            self._cells, self._pieces = _cell_layout(positions, grid), None
        return self

    def _whitening_sample(self, n_images, positions):
        n_total = n_images * positions[0] * positions[1]
        rng = check_random_state(self.random_state)
        if n_total <= self.n_whitening_patches:
            return np.arange(n_total)
        return np.sort(sample_without_replacement(n_total, self.n_whitening_patches,
                                                  random_state=rng))

    # -------------------------------------------------------------- transform
    def transform(self, X):
        """Pooled soft-threshold codes of the patches of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, H * W * C)
            Flattened images.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_atoms * 2 * gh * gw), float32
            The pooled codes (see the class Notes for the column order).
        """
        check_is_fitted(self)
        X = validate_images(self, X, reset=False)
        images = X.reshape((-1,) + self.image_shape_)
        n_atoms = self.filters_.shape[1]
        n_cells = self.pool_grid_[0] * self.pool_grid_[1]
        out = np.empty((len(X), n_atoms * 2 * n_cells), dtype=np.float32)
        threads = effective_threads(self.n_jobs)

        def work(batch):
            self._encode(images[batch], out[batch])

        batches = list(gen_batches(len(X), self.batch_size))
        # the blocks' matrix products are small: threads over batches, not in BLAS
        with threadpool_limits(limits=1, user_api="blas"):
            if threads == 1 or len(batches) == 1:
                for batch in batches:
                    work(batch)
            else:
                Parallel(n_jobs=threads, prefer="threads")(delayed(work)(b) for b in batches)
        return out

    def _encode(self, images, out):
        """Encode a batch of ``(B, H, W, C)`` images into ``out`` (B rows)."""
        order, counts = self._cells
        n_cells = len(counts)
        B = len(images)
        P = _normalize(_cell_major_patches(images, self.patch_shape_, order),
                       self.contrast_eps)
        filters = self.filters_
        n_atoms = filters.shape[1]
        hi = self._bias + np.float32(self.threshold)
        lo = self._bias - np.float32(self.threshold)
        pos = np.zeros((B * n_cells, n_atoms), dtype=np.float32)
        neg = np.zeros_like(pos)
        block_rows = max(_MIN_BLOCK_ROWS, _BLOCK_BYTES // (4 * n_atoms))
        Y = np.empty((min(block_rows, len(P)), n_atoms), dtype=np.float32)
        T = np.empty_like(Y)
        for r0, r1, starts, segs in _blocks(np.tile(counts, B), block_rows):
            y, t = Y[: r1 - r0], T[: r1 - r0]
            np.matmul(P[r0:r1], filters, out=y)
            np.maximum(y, hi, out=t)
            pos[segs] += np.add.reduceat(t, starts, axis=0)
            np.minimum(y, lo, out=y)
            neg[segs] += np.add.reduceat(y, starts, axis=0)
        cnt = np.tile(counts, B).astype(np.float32)[:, None]
        pos -= cnt * hi
        neg = cnt * lo - neg
        np.maximum(pos, 0, out=pos)  # rounding in the sums
        np.maximum(neg, 0, out=neg)
        res = out.reshape(B, n_atoms, 2, -1)
        if self._pieces is None:
            res[:, :, 0, :] = pos.reshape(B, n_cells, n_atoms).transpose(0, 2, 1)
            res[:, :, 1, :] = neg.reshape(B, n_cells, n_atoms).transpose(0, 2, 1)
            if self.compression == "sqrt":
                np.sqrt(out, out=out)
            return
        own, mirrored = self._pieces  # (cells, pieces) 0/1 sums
        codes = np.stack([pos.reshape(B, n_cells, n_atoms),
                          neg.reshape(B, n_cells, n_atoms)], axis=1)  # (B, 2, pieces, atoms)
        f = np.einsum("cq,bpqa->bapc", own, codes)  # (B, atoms, 2, cells)
        g = np.einsum("cq,bpqa->bapc", mirrored, codes)
        if self.compression == "sqrt":
            np.sqrt(f, out=f)
            np.sqrt(g, out=g)
        # f(mirror image)[a, pol] = g[mirror atom, pol (or the other if the sign is -1)]
        partner, flipped = self.mirror_atoms_, self.mirror_signs_ < 0
        g = g[:, partner]
        g[:, flipped] = g[:, flipped, ::-1]
        res[...] = 0.5 * (f + g)

    # ------------------------------------------------------------ names, tags
    def get_feature_names_out(self, input_features=None):
        """Names of the output features.

        Each name is ``{atom}_{pos|neg}_cell{row}-{col}`` with ``atom`` either
        ``s{sigma}_blob_{color}`` or ``s{sigma}_f{frequency}_theta{degrees}_ph{degrees}_{color}``,
        e.g. ``'s1_f0.15_theta22.5_ph90_lum_pos_cell0-1'``.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Only checked against the input feature names seen in :term:`fit`.

        Returns
        -------
        feature_names_out : ndarray of str objects
        """
        check_is_fitted(self)
        _check_feature_names_in(self, input_features, generate_names=False)
        gh, gw = self.pool_grid_
        cells = [f"cell{a}-{b}" for a in range(gh) for b in range(gw)]
        names = [
            f"{_atom_label(p)}_{pol}_{c}"
            for p in self.atom_params_ for pol in ("pos", "neg") for c in cells
        ]
        return np.asarray(names, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags


# ---------------------------------------------------------------- helpers
def _int_pair(value, name):
    try:
        pair = (value, value) if isinstance(value, Integral) else tuple(value)
        ok = len(pair) == 2 and all(
            isinstance(v, Integral) and not isinstance(v, bool) and v >= 1 for v in pair
        )
    except TypeError:
        ok = False
    if not ok:
        raise ValueError(f"{name} must be an int or a pair of ints >= 1; got {value!r}.")
    return int(pair[0]), int(pair[1])


def _atom_label(p):
    head = f"s{p['sigma']:g}"
    if p["frequency"] == 0:
        return f"{head}_blob_{p['color']}"
    return (f"{head}_f{p['frequency']:g}_theta{np.degrees(p['theta']):g}"
            f"_ph{np.degrees(p['phase']):g}_{p['color']}")


def _normalize(P, eps):
    """Brightness and contrast normalization of the rows of ``P``, in place."""
    P -= P.mean(axis=1, keepdims=True)
    scale = np.einsum("ij,ij->i", P, P)[:, None]
    scale /= P.shape[1]
    scale += P.dtype.type(eps)
    np.sqrt(scale, out=scale)
    P /= scale
    return P


def _cell_layout(positions, grid):
    """Positions (flat indices into the position grid) in cell-major order, cell sizes."""
    Hp, Wp = positions
    return _layout_from_bounds(positions, cell_bounds(Hp, grid[0]), cell_bounds(Wp, grid[1]))


def _layout_from_bounds(positions, rb, cb):
    """:func:`_cell_layout` of the cells with row bounds ``rb`` and column bounds ``cb``."""
    Hp, Wp = positions
    idx = np.arange(Hp * Wp).reshape(Hp, Wp)
    order, counts = [], []
    for a in range(len(rb) - 1):
        for b in range(len(cb) - 1):
            cell = idx[rb[a]:rb[a + 1], cb[b]:cb[b + 1]].ravel()
            order.append(cell)
            counts.append(cell.size)
    return np.concatenate(order), np.asarray(counts)


def _mirror_cell_layout(positions, grid):
    """Cell layout of the pieces the cells and their mirror images cut the columns into.

    Returns ``((order, counts), (own, mirrored))``: positions in piece-major
    order with the piece sizes, and ``(n_cells, n_pieces)`` 0/1 float32
    matrices summing the pieces into each cell and into its mirror image
    (columns ``j -> Wp - 1 - j``).
    """
    Hp, Wp = positions
    gh, gw = grid
    cb = cell_bounds(Wp, gw)
    cuts = np.union1d(cb, Wp - cb)  # column boundaries of the pieces
    n_cols = len(cuts) - 1
    layout = _layout_from_bounds(positions, cell_bounds(Hp, gh), cuts)
    own = np.zeros((gh * gw, gh * n_cols), dtype=np.float32)
    mirrored = np.zeros_like(own)
    for a in range(gh):
        for b in range(gw):
            lo, hi = cb[b], cb[b + 1]
            for q in range(n_cols):
                # piece q lies in cell b, or in the mirror image [Wp - hi, Wp - lo) of cell b
                own[a * gw + b, a * n_cols + q] = lo <= cuts[q] and cuts[q + 1] <= hi
                mirrored[a * gw + b, a * n_cols + q] = Wp - hi <= cuts[q] and cuts[q + 1] <= Wp - lo
    return layout, (own, mirrored)


def _patch_mirror(patch, n_channels):
    """Index permutation of a flattened ``(h, w, C)`` patch that mirrors it left-right."""
    h, w = patch
    return np.arange(h * w * n_channels).reshape(h, w, n_channels)[:, ::-1, :].ravel()


def _mirror_partners(dictionary, mirror):
    """``(partner, sign)`` with ``dictionary[a, mirror] = sign[a] * dictionary[partner[a]]``."""
    overlap = dictionary[:, mirror] @ dictionary.T  # unit-norm atoms: +-1 for a partner
    # an atom whose negative is in the dictionary too (opposite opponent colours)
    # has two partners; the one of sign +1 is taken (either gives the same features)
    plus, minus = np.argmax(overlap, axis=1), np.argmin(overlap, axis=1)
    rows = np.arange(len(overlap))
    partner = np.where(overlap[rows, plus] > 1 - 1e-6, plus, minus)
    best = overlap[rows, partner]
    zero = ~dictionary.any(axis=1)  # an all-zero atom is its own mirror image
    partner[zero], best[zero] = rows[zero], 1.0
    if not np.all(np.abs(best) > 1 - 1e-6):
        missing = int(np.flatnonzero(np.abs(best) <= 1 - 1e-6)[0])
        raise ValueError(
            "flip_invariant=True needs every atom's left-right mirror image in the "
            f"dictionary; atom {missing} has none (largest overlap {abs(best[missing]):.3g})."
        )
    return partner, np.where(best > 0, 1, -1)


def _cell_major_patches(images, patch, order):
    """``(B * n_positions, h * w * C)`` float32 patches, each image's in ``order``."""
    h, w = patch
    B, _H, W, C = images.shape
    rows, cols = np.divmod(order, W - w + 1)
    images = images.astype(np.float32, copy=False)
    win = sliding_window_view(images, (h, w), axis=(1, 2))  # (B, Hp, Wp, C, h, w)
    P = win.transpose(0, 1, 2, 4, 5, 3)[:, rows, cols]  # one gather: (B, n, h, w, C)
    return P.reshape(B * len(order), h * w * C)


def _patches_at(images, patch, flat):
    """Patches at flat indices ``flat`` of the ``(n, Hp, Wp)`` position grid."""
    h, w = patch
    _n, H, W, C = images.shape
    Wp = W - w + 1
    per_image = (H - h + 1) * Wp
    img, pos = np.divmod(flat, per_image)
    r, c = np.divmod(pos, Wp)
    ii = np.arange(h)[None, :, None]
    jj = np.arange(w)[None, None, :]
    P = images[img[:, None, None], r[:, None, None] + ii, c[:, None, None] + jj]
    return P.reshape(len(flat), h * w * C)


def _blocks(counts, block_rows):
    """Row blocks of about ``block_rows`` rows over consecutive segments of sizes ``counts``.

    Yields ``(r0, r1, starts, segs)``: rows ``[r0, r1)`` hold (parts of) the
    segments ``segs``, and ``starts`` (relative to ``r0``) where each begins.
    A segment longer than ``block_rows`` is split over several blocks.
    """
    pieces = []  # (segment, row start, row stop)
    row = 0
    for s, n in enumerate(counts):
        for a in range(0, n, block_rows):
            pieces.append((s, row + a, row + min(n, a + block_rows)))
        row += n
    i = 0
    while i < len(pieces):
        j = i + 1
        while j < len(pieces) and pieces[j][2] - pieces[i][1] <= block_rows:
            j += 1
        r0, r1 = pieces[i][1], pieces[j - 1][2]
        yield (r0, r1, np.array([p[1] - r0 for p in pieces[i:j]]),
               np.array([p[0] for p in pieces[i:j]]))
        i = j
