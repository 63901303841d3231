"""Pooled Gabor features of images: everything ``transform`` needs, built once.

:func:`build_features` turns a bank description into a frozen
:class:`GaborFeatures`; :meth:`GaborFeatures.transform` computes the feature
matrix of rows of images from it alone.
"""

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from joblib import cpu_count
from threadpoolctl import threadpool_limits

from ._cascade import build_cascade, run_cascade
from ._images import ImagePrep
from ._layout import FeatureLayout
from ._plan import FilterPlan, build_plan
from ._pool import Pooling, cell_bounds
from ._support import axis_layout, folded_gabor_kernel, kernel_pad

__all__ = ["MAX_BANK_BYTES", "GaborFeatures", "bank_nbytes", "build_features",
           "effective_threads"]

#: largest filter bank (kernels and their FFT spectra, complex128) built
MAX_BANK_BYTES = 4 * 2**30
# Images filtered together inside a batch.
_CACHE_ROWS = 64


def _padded(n):
    """``n`` maps rounded up to a multiple of 16 for the maps-last products:
    with whole blocks of 16 maps and one BLAS thread, a map's result does not
    depend on how many maps share the product (batch size, sample order)."""
    return -(-n // 16) * 16


def effective_threads(n_jobs):
    """Threads for ``n_jobs`` (joblib's convention): None is 1, -1 all cores,
    -2 all but one, ..., and at least 1."""
    if n_jobs is None:
        return 1
    if n_jobs < 0:
        return max(1, cpu_count() + 1 + n_jobs)
    return int(n_jobs)


def _nonlinear(resp, nonlinearity):
    """The maps of the complex responses that are pooled (two for 'rectified')."""
    if nonlinearity == "modulus":
        return [np.abs(resp)]
    if nonlinearity == "squared":
        return [resp.real**2 + resp.imag**2]
    if nonlinearity == "real":
        return [np.ascontiguousarray(resp.real)]
    if nonlinearity == "imag":
        return [np.ascontiguousarray(resp.imag)]
    return [np.maximum(resp.real, 0), np.maximum(resp.imag, 0)]


@dataclass(frozen=True)
class GaborFeatures:
    """A fitted feature extractor (see :class:`~sklearn_gabor.GaborTransformer`).

    ``first`` is the plan of the first-layer kernels ``layer_one`` (bank
    indices, ascending; plan filter ``i`` is kernel ``layer_one[i]``),
    ``cascade`` the second-layer steps (empty without second order), and
    ``slots[k]`` the slot of kernel ``k``'s full-resolution modulus map among
    the cascade's inputs (-1 for a kernel that feeds no cascade path).
    """

    prep: ImagePrep
    nonlinearity: str
    pooling: Pooling
    compression: str
    layout: FeatureLayout
    layer_one: np.ndarray
    first: object  # FilterPlan
    cascade: tuple
    slots: np.ndarray

    def transform(self, X, dtype, batch_size, n_threads):
        """Features ``(n, layout.n_out)`` of ``dtype`` for the rows of ``X``.

        Batches of ``batch_size`` rows run on up to ``n_threads`` threads
        (each batch's FFTs and matrix products on one thread), or one batch at
        a time with ``n_threads`` FFT workers; matrix products use one BLAS
        thread, so that the features do not depend on the threads.
        """
        dtype = np.dtype(dtype)
        cdtype = np.result_type(dtype, np.complex64)
        plans = (self.first.astype(cdtype), tuple(s.astype(cdtype) for s in self.cascade))
        n, layout = X.shape[0], self.layout
        out = np.empty((n, layout.n_out), dtype)
        starts = range(0, n, batch_size)
        pool_threads = min(n_threads, len(starts))
        workers = 1 if pool_threads > 1 else n_threads
        local = threading.local()  # one full-width batch buffer per thread

        def run_batch(start):
            # rows of a batch in slices of at most _CACHE_ROWS images: the
            # temporaries of a slice stay in cache (25 % faster than 256 rows
            # on the recipe's cascade)
            for s in range(start, min(start + batch_size, n), _CACHE_ROWS):
                run_rows(s, min(s + _CACHE_ROWS, start + batch_size, n))

        def run_rows(start, stop):
            if layout.flip is None:
                self._batch(X[start:stop], layout.views(out[start:stop]), plans, dtype, workers)
            else:
                # full-width features of this batch, symmetrized into the reduced
                # output: (F[:, k] + F[:, perm[k]]) / 2 before compression
                if not hasattr(local, "full"):
                    local.full = np.empty((min(n, batch_size), layout.n_full), dtype)
                full = local.full[: stop - start]
                self._batch(X[start:stop], layout.views(full), plans, dtype, workers)
                layout.symmetrize(full, out[start:stop])
            self._compress(out[start:stop])  # on the batch's thread, while in cache

        # the matrix products run on the thread of their batch with one BLAS
        # thread: threads over batches never nest in BLAS ones, and a product
        # split over BLAS threads would round some maps differently
        with threadpool_limits(limits=1, user_api="blas"):
            if pool_threads > 1:
                # batches write disjoint rows of `out`; NumPy and scipy.fft
                # release the GIL, so threads share the work without copying X.
                # A plain thread pool: joblib would follow an active
                # parallel_config (e.g. the dask backend of an enclosing
                # GridSearchCV) and nest in it.
                with ThreadPoolExecutor(pool_threads) as pool:
                    list(pool.map(run_batch, starts))
            else:
                for start in starts:
                    run_batch(start)
        self._check_finite(out, X)
        return out

    def _batch(self, Xb, views, plans, dtype, workers):
        first_view, second_view = views
        plan, steps = plans
        img = self.prep(Xb, dtype)
        B, C, H, W = img.shape
        # first-order moduli of the kernels that feed the cascade, full
        # resolution, maps on the last axis: U[slot, y, x, b * C + c]
        U = None
        if steps:
            U = np.empty((int(self.slots.max()) + 1, H, W, _padded(B * C)), dtype)
            U[..., B * C :] = 0
        if plan.demodulated:
            self._first_layer_last(img, first_view, plan, U, workers)
        else:
            self._first_layer(img, first_view, plan, U, workers)
        if U is None:
            return
        del img
        run_cascade(steps, U, self.slots, self.pooling, second_view, workers)

    def _first_layer(self, img, first_view, plan, U, workers):
        """First-order features and cascade inputs, maps first (any
        nonlinearity and statistics)."""
        B, C, H, W = img.shape
        U5 = None if U is None else U[..., : B * C].reshape(U.shape[:3] + (B, C))
        for filters, stride, resp in plan.responses(img, workers):
            kernels = self.layer_one[filters]
            maps = None
            if first_view is not None:
                maps = _nonlinear(resp, self.nonlinearity)
                for p, m in enumerate(maps):
                    pooled = self.pooling(m, stride)  # (B, C, F, gh, gw, S)
                    first_view[:, kernels, p] = pooled.transpose(0, 2, 1, 3, 4, 5)
            feed = self.slots[kernels] >= 0 if U is not None else None
            if feed is not None and feed.any():
                # the modulus already computed for the output, or |resp|
                mod = maps[0] if maps and self.nonlinearity == "modulus" else np.abs(resp)
                U5[self.slots[kernels[feed]]] = mod[:, :, feed].transpose(2, 3, 4, 0, 1)

    def _first_layer_last(self, img, first_view, plan, U, workers):
        """First-order features and cascade inputs of a demodulated plan (the
        modulus or its square, means by matrix products), maps on the last axis."""
        B, C, H, W = img.shape
        gh, gw = self.pooling.grid
        n = B * C
        src = np.zeros((H, W, _padded(n)), img.dtype)  # maps (b, c), zeros after
        src[..., :n] = img.transpose(2, 3, 0, 1).reshape(H, W, n)
        # (B, n_filters, C, gh, gw): one part, one statistic
        means = None if first_view is None else first_view[:, :, 0, :, :, :, 0]
        for filters, stride, resp in plan.responses_last(src, workers):
            kernels = self.layer_one[filters]  # resp: (f, Ho, Wo, B * C)
            feed = self.slots[kernels] >= 0 if U is not None else np.zeros(len(kernels), bool)
            mod = np.abs(resp) if self.nonlinearity == "modulus" or feed.any() else None
            if means is not None:
                m = mod if self.nonlinearity == "modulus" else _nonlinear(resp, "squared")[0]
                pooled = self.pooling.means_last(m, stride)[..., :n]  # (f, gh, gw, B * C)
                means[:, kernels] = pooled.reshape(len(kernels), gh, gw, B, C).transpose(
                    3, 0, 4, 1, 2)
            if feed.any():
                U[self.slots[kernels[feed]]] = mod[feed]

    def _compress(self, out):
        if self.compression == "log1p":
            np.copysign(np.log1p(np.abs(out)), out, out=out)
        elif self.compression == "sqrt":
            np.copysign(np.sqrt(np.abs(out)), out, out=out)

    def _check_finite(self, out, X):
        if not np.all(np.isfinite(out)):
            raise ValueError(
                f"The Gabor features overflowed to inf or NaN: X holds values up to "
                f"{np.abs(X).max():.3g}, too large for {out.dtype} arithmetic "
                f"(nonlinearity={self.nonlinearity!r}, pool_stats={self.pooling.stats}). "
                "Rescale X (e.g. to [0, 1])"
                + ("." if out.dtype == np.float64 else " or set dtype='float64'.")
            )


def bank_nbytes(params, image_shape, mode, layout):
    """Bytes of the kernels and FFT spectra (complex128) that a bank needs."""
    H, W = image_shape[:2]
    pads = [kernel_pad(p["shape"], (H, W), mode) for p in params]
    Lh = axis_layout(H, max(p[0] for p in pads), mode).length
    Lw = axis_layout(W, max(p[1] for p in pads), mode).length
    n_spectra = len(layout.layer_one_filters()) + sum(len(p.second) for p in layout.paths)
    pixels = sum((2 * py + 1) * (2 * px + 1) for py, px in pads)
    return 16 * (pixels + n_spectra * Lh * Lw)


def _first_plan(kernels, full, shape, mode, coarse_strides, demodulate):
    """The plan of the first layer: the kernels where ``full`` at full
    resolution (they feed the cascade), the others at up to ``coarse_strides``."""
    if full.all() or coarse_strides == (1, 1):
        strides = (1, 1) if full.any() else coarse_strides
        return build_plan(kernels, shape, mode, strides, demodulate=demodulate)
    if not full.any():
        return build_plan(kernels, shape, mode, coarse_strides, demodulate=demodulate)
    parts = tuple(
        (idx, build_plan([kernels[i] for i in idx], shape, mode, s, demodulate=demodulate))
        for idx, s in ((np.flatnonzero(full), (1, 1)), (np.flatnonzero(~full), coarse_strides))
    )
    strides = [None] * len(kernels)
    for idx, part in parts:
        for i, s in zip(idx, part.strides):
            strides[i] = s
    big = max((p for _, p in parts), key=lambda p: p.fft_shape[0] * p.fft_shape[1])
    return FilterPlan(tuple(shape), mode, big.rows, big.cols, tuple(strides), (), demodulate,
                      parts)


def build_features(params, image_shape, *, mode, nonlinearity, color, channels,
                   contrast_normalization, grid, stats, compression, orders,
                   resolution, mirror=None, cascade=None):
    """The :class:`GaborFeatures` of a bank, and its kernels cut for ``image_shape``.

    ``params`` are the kernel parameter dicts of
    :func:`~sklearn_gabor._kernels.bank_params`; ``mirror`` the kernel mirror
    map for mirror-averaged features (:func:`~._flip.mirror_kernels`);
    ``cascade`` the kernels of the second order (see :func:`~._layout.cascade_paths`).
    """
    H, W, _ = image_shape
    kernels = [folded_gabor_kernel(p, (H, W), mode) for p in params]
    pooling = Pooling(cell_bounds(H, grid[0]), cell_bounds(W, grid[1]), tuple(stats))
    parts = ("re+", "im+") if nonlinearity == "rectified" else ("",)
    layout = FeatureLayout.build([p["frequency"] for p in params], parts, channels,
                                 grid, stats, orders, cascade)
    if mirror is not None:
        layout = layout.with_flip(mirror)
    # coarse sampling biases 'max' and 'std' by a few percent: mean only
    coarse = resolution == "auto" and tuple(stats) == ("mean",)
    # only the modulus of demodulated responses is right
    demodulate = coarse and nonlinearity in ("modulus", "squared")
    layer_one = layout.layer_one_filters()
    # the cascade needs full-resolution first-order maps of the kernels that
    # feed it; the others may be sampled as coarsely as the pooling allows
    feeds = layout.cascade_inputs()
    slots = np.full(len(params), -1)
    slots[feeds] = np.arange(len(feeds))
    full = np.isin(layer_one, feeds)
    coarse_strides = pooling.max_strides() if demodulate else (1, 1)
    first = _first_plan([kernels[k] for k in layer_one], full, (H, W), mode, coarse_strides,
                        demodulate)
    cascade = build_cascade(layout.paths, kernels, (H, W), mode,
                            pooling.max_strides() if coarse else (1, 1), demodulate=coarse)
    prep = ImagePrep(tuple(image_shape), bool(contrast_normalization), color)
    features = GaborFeatures(prep, nonlinearity, pooling, compression, layout,
                             layer_one, first, cascade, slots)
    return features, kernels
