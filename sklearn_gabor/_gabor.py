"""Gabor filter-bank features for images stored as rows of ``X``."""

import math
import threading
from concurrent.futures import ThreadPoolExecutor
from numbers import Integral, Real

import numpy as np
import scipy.fft
import scipy.sparse as sp
from joblib import cpu_count
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from ._kernels import gabor_bank
from .utils._atomic import restore_on_failure
from .utils._estimator import SklearnGaborMixin, check_no_array_api_dispatch
from .utils._sklearn_compat import (
    Interval,
    StrOptions,
    _check_feature_names_in,
    _fit_context,
)

__all__ = ["GaborTransformer"]

_NONLINEARITIES = ("modulus", "real", "imag", "rectified", "squared")
_STATS = ("mean", "max", "std")
# Fraction of a kernel's spectral energy allowed outside the reduced band for
# the reduced-resolution path (resolution='auto'); see _build_plan.
_SPECTRAL_LEAK_TOL = 1e-3
_GUARD = 2
# Samples per pooling cell (per axis) required on the coarse grid.
_MIN_SAMPLES = 4
# Target size (bytes) of the complex temporaries of one filter chunk.
_CHUNK_BYTES = 16 * 2**20
# Luminance weights (ITU-R BT.709, as skimage.color.rgb2gray).
_GRAY_WEIGHTS = np.array([0.2125, 0.7154, 0.0721])
# Rows: luminance, red-green, yellow-blue.
_OPPONENT = np.array(
    [[1 / 3, 1 / 3, 1 / 3], [1.0, -1.0, 0.0], [0.5, 0.5, -1.0]],
)


def _is_fast_len(n):
    return scipy.fft.next_fast_len(int(n)) == n


def _fast_multiple(n_min, step):
    """Smallest multiple of ``step`` that is >= ``n_min`` and FFT friendly."""
    k = max(1, -(-n_min // step))
    while not _is_fast_len(k * step):
        k += 1
    return k * step


def _reflect_index(i, n):
    """``scipy.ndimage`` 'reflect' extension (d c b a | a b c d | d c b a)."""
    i = np.mod(i, 2 * n)
    return np.where(i >= n, 2 * n - 1 - i, i)


def _axis_layout(n, pad, mode, step):
    """FFT length and source-index map along one axis.

    The image occupies positions ``[0, n)`` of a periodic buffer of length
    ``L``; the other positions hold the boundary extension that a linear
    convolution with a kernel of half-size ``pad`` reads, so a circular
    convolution on the buffer equals ``scipy.ndimage.convolve`` on ``[0, n)``
    for any ``pad`` (also kernels larger than the image):

    * 'wrap': ``L = n``, the kernel is wrapped (periodised) modulo ``n``.
    * 'constant': ``L >= n + pad`` zeros after the image.
    * 'reflect': either ``L = 2 n`` (the reflected extension has period
      ``2 n``) or ``L >= n + 2 pad`` with ``pad`` reflected samples on each
      side, whichever is cheaper.

    Returns ``(L, index)`` with ``index[j]`` the image position stored at
    buffer position ``j``, or -1 for a zero.
    """
    if mode == "wrap":
        return n, np.arange(n)
    if mode == "constant":
        length = _fast_multiple(n + pad, step)
        index = np.full(length, -1)
        index[:n] = np.arange(n)
        return length, index
    # reflect
    padded = _fast_multiple(n + 2 * pad, step)
    double = 2 * n
    cost_double = double * (1.0 if _is_fast_len(double) else 3.0)
    if cost_double <= padded:
        return double, _reflect_index(np.arange(double), n)
    index = np.zeros(padded, dtype=int)
    index[:n] = np.arange(n)
    index[n : n + pad] = _reflect_index(np.arange(n, n + pad), n)
    index[padded - pad :] = _reflect_index(np.arange(-pad, 0), n)
    return padded, index


def _cell_bounds(n, g):
    return np.array([(i * n) // g for i in range(g + 1)])


def _max_stride(bounds):
    """Largest power-of-two stride that divides every cell boundary and
    leaves at least _MIN_SAMPLES samples per cell along the axis."""
    min_cell = int(np.min(np.diff(bounds)))
    s = 1
    while np.all(bounds % (2 * s) == 0) and 2 * s <= min_cell // _MIN_SAMPLES:
        s *= 2
    return s


def _window(center, m, length):
    """Spectral bins ``center + q`` (mod ``length``), ``q`` in FFT order."""
    q = np.rint(np.fft.fftfreq(m) * m).astype(int)
    return np.mod(center + q, length), q


def _build_plan(kernels, shape, mode, bounds_h, bounds_w, reduced):
    """Per-filter FFT layout: buffer maps, filter groups and spectral windows.

    Each filter is applied as ``ifft(X_hat[window] * K_hat[window])``. At full
    resolution the window is the whole spectrum. With ``reduced`` (modulus /
    squared responses only) a filter whose spectrum fits, up to a fraction
    ``_SPECTRAL_LEAK_TOL`` of its energy, in a band of ``L / s`` bins around
    its peak is demodulated (the peak moved to 0, which leaves the modulus
    unchanged) and inverse transformed on the ``s`` times coarser grid; the
    samples then sit at the centres of ``s x s`` pixel blocks, which tile the
    pooling cells.
    """
    H, W = shape
    pad_h = max((k.shape[0] - 1) // 2 for k in kernels)
    pad_w = max((k.shape[1] - 1) // 2 for k in kernels)
    smax_h = _max_stride(bounds_h) if reduced else 1
    smax_w = _max_stride(bounds_w) if reduced else 1
    Lh, index_h = _axis_layout(H, pad_h, mode, smax_h)
    Lw, index_w = _axis_layout(W, pad_w, mode, smax_w)
    if Lh % smax_h:
        smax_h = 1
    if Lw % smax_w:
        smax_w = 1

    kh2 = np.fft.fftfreq(Lh)[:, None] ** 2
    kw2 = np.fft.fftfreq(Lw)[None, :] ** 2
    prior = 1.0 / np.maximum(kh2 + kw2, 1.0 / (Lh * Lw))
    strides = []
    spectra = []
    for k in kernels:
        kh, kw = k.shape
        buf = np.zeros((Lh, Lw), dtype=np.complex128)
        rows = np.mod(np.arange(kh) - (kh - 1) // 2, Lh)
        cols = np.mod(np.arange(kw) - (kw - 1) // 2, Lw)
        np.add.at(buf, (rows[:, None], cols[None, :]), k)
        K = scipy.fft.fft2(buf)
        power = np.abs(K) ** 2
        ch, cw = np.unravel_index(np.argmax(power), power.shape)
        # weight by a natural-image power spectrum ~ 1 / |k|^2 so that leaks
        # near DC (where images have most energy) count
        power = power * prior
        total = power.sum()
        best = (1, 1)
        for sh in (2**i for i in range(int(math.log2(smax_h)) + 1)):
            for sw in (2**i for i in range(int(math.log2(smax_w)) + 1)):
                if sh * sw <= best[0] * best[1]:
                    continue
                # the band must fit in the central half of the coarse
                # spectrum, so |r|^2 (twice as wide) is not aliased
                wh, _ = _window(ch, max(1, Lh // (_GUARD * sh)), Lh)
                ww, _ = _window(cw, max(1, Lw // (_GUARD * sw)), Lw)
                inside = power[np.ix_(wh, ww)].sum()
                if total - inside <= _SPECTRAL_LEAK_TOL * total:
                    best = (sh, sw)
        strides.append(best)
        spectra.append((K, (ch, cw)))

    groups = {}
    for i, s in enumerate(strides):
        groups.setdefault(s, []).append(i)
    plan = []
    for (sh, sw), idx in sorted(groups.items()):
        Mh, Mw = Lh // sh, Lw // sw
        full = sh == 1 and sw == 1
        win_h, win_w, kws = [], [], []
        for i in idx:
            K, (ch, cw) = spectra[i]
            if full:
                kws.append(K)
                continue
            wh, qh = _window(ch, Mh, Lh)
            ww, qw = _window(cw, Mw, Lw)
            # sample at block centres (s - 1) / 2 and fold in the ifft scaling
            ph = np.exp(2j * np.pi * qh * ((sh - 1) / 2) / Lh)
            pw = np.exp(2j * np.pi * qw * ((sw - 1) / 2) / Lw)
            scale = (Mh * Mw) / (Lh * Lw)
            kws.append(K[np.ix_(wh, ww)] * (ph[:, None] * pw[None, :]) * scale)
            win_h.append(wh)
            win_w.append(ww)
        plan.append(
            {
                "filters": np.asarray(idx),
                "stride": (sh, sw),
                "full": full,
                "win_h": None if full else np.stack(win_h),
                "win_w": None if full else np.stack(win_w),
                "kernels": np.stack(kws),
            }
        )
    return (Lh, Lw), (index_h, index_w), strides, plan


def _pool(maps, bounds_h, bounds_w, stats):
    """Cell statistics over the last two axes: ``(..., gh, gw, n_stats)``."""
    Hc, Wc = maps.shape[-2:]
    gh, gw = len(bounds_h) - 1, len(bounds_w) - 1
    lead = maps.shape[:-2]
    out = np.empty(lead + (gh, gw, len(stats)), dtype=maps.dtype)
    uniform = (
        Hc % gh == 0
        and Wc % gw == 0
        and np.array_equal(bounds_h, np.arange(gh + 1) * (Hc // gh))
        and np.array_equal(bounds_w, np.arange(gw + 1) * (Wc // gw))
    )
    if uniform:
        v = maps.reshape(lead + (gh, Hc // gh, gw, Wc // gw))
        axes = (-3, -1)
        for j, stat in enumerate(stats):
            if stat == "mean":
                out[..., j] = v.mean(axis=axes)
            elif stat == "max":
                out[..., j] = v.max(axis=axes)
            else:
                out[..., j] = v.std(axis=axes)
        return out
    for a in range(gh):
        for b in range(gw):
            cell = maps[..., bounds_h[a] : bounds_h[a + 1], bounds_w[b] : bounds_w[b + 1]]
            for j, stat in enumerate(stats):
                if stat == "mean":
                    out[..., a, b, j] = cell.mean(axis=(-2, -1))
                elif stat == "max":
                    out[..., a, b, j] = cell.max(axis=(-2, -1))
                else:
                    out[..., a, b, j] = cell.std(axis=(-2, -1))
    return out


def _mirror_kernels(params, tol=1e-9):
    """Index of the left-right mirror of every kernel of a bank, or None.

    Mirroring ``x -> -x`` maps the kernel ``(f, theta)`` onto ``(f, pi -
    theta)``, and the modulus of a real image's response depends on
    ``theta`` only modulo ``pi``. The mirror of kernel ``k`` is a kernel with
    the same frequency and envelope whose orientation equals ``pi - theta_k``
    modulo ``pi`` (to ``tol`` radians). The result is an involution
    (``m[m[k]] == k``); kernels that are their own mirror (0 and ``pi / 2``
    modulo ``pi``) map to themselves. Returns None (and the offending
    orientation) if some kernel has no mirror, or too few of them when
    orientations are repeated.
    """
    ang = np.array([prm["theta"] for prm in params]) % np.pi
    ang[np.pi - ang <= tol] = 0.0
    target = (np.pi - ang) % np.pi
    target[np.pi - target <= tol] = 0.0
    env = np.array([[prm["frequency"], prm["sigma_x"], prm["sigma_y"]] for prm in params])
    mirror = np.full(len(params), -1)
    for k in range(len(params)):
        if mirror[k] >= 0:
            continue
        diff = np.abs(ang - target[k])
        match = (
            (np.minimum(diff, np.pi - diff) <= tol)
            & np.all(np.isclose(env, env[k], rtol=1e-9, atol=0.0), axis=1)
        )
        if match[k]:
            mirror[k] = k
            continue
        free = np.flatnonzero(match & (mirror < 0))
        if free.size == 0:
            return None, params[k]["theta"]
        mirror[k], mirror[free[0]] = free[0], k
    return mirror, None


def _flip_permutation(mirror, n_parts, n_chan, grid, n_stats, pairs):
    """Column permutation ``perm`` with ``F(flip x) = F(x)[perm]``.

    The first-order column (kernel k, part, channel, cell (a, b), stat) maps
    to (``mirror[k]``, part, channel, (a, gw - 1 - b), stat), the cascade
    column of path (i, j) to the path (``mirror[i]``, ``mirror[j]``) with the
    same cell mirror (see :class:`GaborTransformer`, ``flip_invariant``).
    """
    gh, gw = grid
    n_first = len(mirror) * n_parts * n_chan * gh * gw * n_stats
    first = np.arange(n_first).reshape(len(mirror), n_parts, n_chan, gh, gw, n_stats)
    perm = [first[mirror][:, :, :, :, ::-1].ravel()]
    if pairs:
        where = {pair: q for q, pair in enumerate(pairs)}
        qmirror = np.array([where[(mirror[i], mirror[j])] for i, j in pairs])
        second = n_first + np.arange(len(pairs) * n_chan * gh * gw * n_stats).reshape(
            len(pairs), n_chan, gh, gw, n_stats
        )
        perm.append(second[qmirror][:, :, :, ::-1].ravel())
    return np.concatenate(perm)


def _n_threads(n_jobs):
    """Threads for ``n_jobs``: None is 1, -1 all cores, -2 all but one, ..."""
    if n_jobs is None:
        return 1
    if n_jobs < 0:
        return max(1, cpu_count() + 1 + n_jobs)
    return n_jobs


def _filtered(img, plan, index_maps, mode, shape, n_jobs):
    """Complex responses of channel-first images ``(B, C, H, W)`` to a bank.

    Yields ``(group, filters, resp)`` per chunk of filters, ``resp`` of shape
    ``(B, C, len(filters), H // sh, W // sw)`` for the group's stride.
    """
    B, C = img.shape[:2]
    H, W = shape
    index_h, index_w = index_maps
    buf = img[:, :, np.maximum(index_h, 0)[:, None], np.maximum(index_w, 0)[None, :]]
    if mode == "constant":
        buf[:, :, index_h < 0, :] = 0
        buf[:, :, :, index_w < 0] = 0
    spec = scipy.fft.fft2(buf, axes=(-2, -1), workers=n_jobs)
    del buf
    itemsize = np.dtype(spec.dtype).itemsize
    for group in plan:
        sh, sw = group["stride"]
        Hc, Wc = H // sh, W // sw
        kern = group["kernels"]
        filters = group["filters"]
        per_filter = B * C * kern.shape[1] * kern.shape[2] * itemsize
        chunk = max(1, _CHUNK_BYTES // per_filter)
        for f0 in range(0, len(filters), chunk):
            f1 = min(f0 + chunk, len(filters))
            if group["full"]:
                resp = spec[:, :, None] * kern[None, None, f0:f1]
            else:
                wh = group["win_h"][f0:f1, :, None]
                ww = group["win_w"][f0:f1, None, :]
                resp = spec[:, :, wh, ww]
                resp *= kern[None, None, f0:f1]
            resp = scipy.fft.ifft2(resp, axes=(-2, -1), overwrite_x=True, workers=n_jobs)
            yield group, filters[f0:f1], resp[..., :Hc, :Wc]


class GaborTransformer(TransformerMixin, SklearnGaborMixin, BaseEstimator):
    r"""Gabor filter-bank features of images stored as the rows of ``X``.

    Each row of ``X`` is an image flattened in C order from shape
    ``(H, W)`` or ``(H, W, C)`` (channels last, as a ``(n, H, W, C)`` array
    reshaped to ``(n, H * W * C)``). Every image channel is convolved with a
    bank of complex Gabor kernels (frequencies x orientations)

    .. math::

        g(x, y) = \frac{1}{2\pi\sigma_x\sigma_y}
            \exp\left(-\frac{1}{2}\left(\frac{x'^2}{\sigma_x^2}
                + \frac{y'^2}{\sigma_y^2}\right)\right)
            \exp\left(i\,(2\pi f x' + \varphi)\right),
        \quad x' = x\cos\theta + y\sin\theta,\;
        y' = -x\sin\theta + y\cos\theta,

    with ``f`` in cycles per pixel, ``theta`` in radians and, unless
    ``sigma_x``/``sigma_y`` are given, the envelope width set by the
    half-power bandwidth ``b`` in octaves,

    .. math::

        \sigma_x = \sigma_y = \frac{1}{\pi f}\sqrt{\frac{\ln 2}{2}}
            \frac{2^b + 1}{2^b - 1}

    (the kernels are those of :func:`~sklearn_gabor.gabor_kernel`, equal to
    :func:`skimage.filters.gabor_kernel`). The complex response
    ``r = I * g`` (a true convolution, equal to
    ``ndimage.convolve(I, g.real, mode) + 1j * ndimage.convolve(I, g.imag, mode)``)
    goes through a pointwise ``nonlinearity``, is pooled over a grid of cells
    with the statistics ``pool_stats`` and optionally compressed.

    Filtering is done in the Fourier domain: one forward FFT per image
    channel, shared by all filters, batched over images (``batch_size``) with
    :mod:`scipy.fft`, batches in parallel threads (``n_jobs``), in single
    precision (complex64) unless float64 output is asked for.

    Parameters
    ----------
    image_shape : tuple of int, default=None
        ``(H, W)`` for grayscale or ``(H, W, C)`` for ``C`` channels, with
        ``H * W * C == n_features``. ``None`` takes a square grayscale image
        ``(r, r)`` when ``n_features = r**2`` and otherwise a one-row strip
        ``(1, n_features)``.
    frequencies : float or sequence of float, default=(0.05, 0.1, 0.2, 0.4)
        Frequencies of the bank in cycles per pixel, each in ``(0, 0.5]``.
        The default is octave spaced, which with ``bandwidth=1`` tiles the
        frequency axis.
    n_orientations : int, default=8
        Orientations ``theta_j = j pi / n_orientations``, j = 0 .. n - 1.
        Ignored when ``thetas`` is given.
    thetas : sequence of float, default=None
        Explicit orientations in radians.
    bandwidth : float, default=1.0
        Half-power bandwidth in octaves (sets ``sigma_x = sigma_y``).
    sigma_x, sigma_y : float, default=None
        Envelope standard deviations in pixels along ``x'`` and ``y'``,
        overriding ``bandwidth`` for every frequency.
    n_stds : float, default=3.0
        Kernel half-size in standard deviations (as in scikit-image).
    offset : float, default=0.0
        Phase offset of the harmonic in radians.
    nonlinearity : {'modulus', 'real', 'imag', 'rectified', 'squared'}, default='modulus'
        Pointwise map of the complex response ``r``: ``|r|``, ``Re r``,
        ``Im r``, the two half-wave rectified parts ``max(Re r, 0)`` and
        ``max(Im r, 0)`` (two maps per filter), or ``|r|**2``.
    mode : {'reflect', 'constant', 'wrap'}, default='reflect'
        Boundary extension, as in :func:`scipy.ndimage.convolve`
        ('reflect' = ``d c b a | a b c d | d c b a``, 'constant' = zeros,
        'wrap' = periodic). Kernels larger than the image are fine with every
        mode: the extension is repeated as often as needed ('reflect' is the
        period-``2H`` mirrored image, 'wrap' the period-``H`` image), exactly
        as ``scipy.ndimage.convolve`` does.
    color : {'per_channel', 'gray', 'opponent'}, default='per_channel'
        'per_channel' filters every channel; 'gray' filters the luminance
        (``0.2125 R + 0.7154 G + 0.0721 B`` for 3 channels, the channel mean
        otherwise); 'opponent' (3 channels only) filters the luminance
        ``(R + G + B) / 3`` and the opponent channels ``R - G`` and
        ``(R + G) / 2 - B``.
    pool_grid : tuple of (int, int), default=(4, 4)
        Number of pooling cells along the rows and the columns; ``(1, 1)`` is
        global pooling. Cell ``a`` spans rows ``[a H // gh, (a + 1) H // gh)``.
        A grid finer than the image is reduced to one cell per pixel (see
        ``pool_grid_``).
    pool_stats : str or tuple of str, default=('mean',)
        Statistics over each cell, from 'mean', 'max', 'std'.
    compression : {'none', 'log1p', 'sqrt'}, default='none'
        Applied to the pooled features, sign-preserving:
        ``sign(v) log(1 + |v|)`` or ``sign(v) sqrt(|v|)``.
    contrast_normalization : bool, default=False
        Standardize each image (over all its pixels and channels) to zero
        mean and unit variance before filtering:
        ``(x - mean) / sqrt(var + 1e-8)``.
    resolution : {'auto', 'full'}, default='auto'
        'full' computes every response at full resolution. 'auto' computes
        the modulus (or squared modulus) of a band-limited filter on a grid
        ``s`` times coarser, as scattering transforms do, when
        ``pool_stats=('mean',)``: ``s`` is a power of two that divides the
        cell boundaries and leaves at least 4 samples per cell side, and at
        most 0.1 % of the kernel's spectral energy (weighted by a ``1/|k|^2``
        natural-image spectrum) may lie outside a band of half the coarse
        grid's width (so ``|r|^2``, twice as wide, is not aliased). The
        response is demodulated (its spectrum shifted to 0, which leaves the
        modulus unchanged) and sampled at the centres of ``s x s`` blocks.
        The pooled means then agree with 'full' to a few 1e-3 (relative, in
        norm; the tests require 1e-2). 'max' and 'std' pooling, which
        coarse sampling biases by a few percent, and the other
        nonlinearities always use full resolution; ``strides_`` shows what
        was used.
    order : {1, 2}, default=1
        2 appends second-order (cascade) features, as a scattering transform
        does: every first-order modulus map ``U = |I_c * g_1|`` (computed at
        full resolution, with the same ``mode``) is filtered again by every
        kernel ``g_2`` of the bank with a lower frequency and its modulus is
        pooled like the first-order maps (same grid, statistics and
        compression):

        .. math::

            S_2[c, g_1, g_2] = \operatorname{pool}\big(\,\big|\,|I_c * g_1|
                * g_2\big|\,\big), \qquad f(g_2) < f(g_1).

        The first-order features (with ``nonlinearity``) come first, then
        the pairs listed in ``cascade_pairs_``. With F frequencies and L
        orientations there are ``L^2 F (F - 1) / 2`` pairs per channel, so
        the cost grows about tenfold for the default bank.
    flip_invariant : bool, default=False
        Make the features invariant to the left-right mirror ``flip`` of the
        images (columns reversed) by averaging the pooled features ``F``
        (before ``compression``) of each image and of its mirror,

        .. math::

            S(x) = \tfrac{1}{2}\big(F(x) + F(\operatorname{flip} x)\big),

        then compressing ``S``, and keeping one column of each pair that this
        makes equal (about half the columns). This gives a linear model the
        benefit of left-right flip augmentation (and of averaging its
        predictions over flips at test time) without flipping or doubling
        the data: for a linear model with a convex loss and a mirror
        invariant penalty (e.g. L2) trained on the images and their mirrors,
        the optimum (one of them, if not unique) has weights that are
        themselves mirror symmetric (``w = w[perm]``, below), so it only
        ever sees ``S(x)``. This equivalence is exact for
        ``compression='none'``; with a compression the averaged values are
        compressed, ``c(S(x))``, which is as invariant but not identical to
        the mean ``(c(F(x)) + c(F(flip x))) / 2`` that augmentation on
        compressed features would see.

        No flipped image is filtered: mirroring maps the kernel of
        orientation ``theta`` to the one of orientation ``pi - theta`` exactly
        (any ``sigma_x``, ``sigma_y``, ``offset``; orientation ``pi`` is, up
        to a unit phase, the complex conjugate of orientation 0, which leaves
        ``|r|`` and ``|r|^2`` of a real image unchanged), every ``mode`` is
        mirror symmetric and the column cells ``b`` and ``gw - 1 - b`` are
        mirror images. So ``F(flip x) = F(x)[:, perm]`` for a permutation
        ``perm`` of the columns that maps (orientation ``theta``, cell
        ``(a, b)``) to (``pi - theta``, ``(a, gw - 1 - b)``), and the cascade
        path ``(i, j)`` of ``order=2`` to ``(mirror(i), mirror(j))``;
        channels, ``pool_stats`` and ``contrast_normalization`` are unchanged
        by the flip. The output keeps, for each orbit ``{k, perm[k]}``, the
        column ``(F[:, k] + F[:, perm[k]]) / 2`` with ``k <= perm[k]``, in the
        original column order (see ``flip_pairs_``). With a full set of
        orientations (``n_orientations``) and an even ``gw`` every orbit has
        two columns and the output exactly half of them.

        Needs ``nonlinearity`` 'modulus' or 'squared' (for the signed
        responses 'real', 'imag', 'rectified' the conjugation at
        ``theta = 0`` and the phase ``offset`` break the identity),
        ``thetas`` closed under ``theta -> pi - theta`` (mod ``pi``, to 1e-9
        rad) and mirror symmetric column cells, i.e. an image width ``W``
        divisible by ``pool_grid_[1]``; otherwise :meth:`fit` raises a
        ValueError. With ``resolution='full'`` the output is exactly (to
        rounding) invariant: ``transform(flip X) == transform(X)``. With
        ``resolution='auto'`` the coarse spectral windows of a kernel and of
        its mirror are not exact mirror images, so the features of ``X`` and
        ``flip X`` agree only to about the accuracy of 'auto' itself (to
        under 1e-3, relative in norm, in our checks; the tests require
        1e-2); the output is still
        ``(F + F[:, perm]) / 2`` of the computed ``F``.
    dtype : {'float32', 'float64'} or None, default='float32'
        Output dtype; ``None`` keeps float64 input as float64 and gives
        float32 otherwise. Float32 output is computed in complex64.
    batch_size : int, default=256
        Images processed at once; peak memory is the output plus a working
        set that grows with ``batch_size`` but not with ``n_samples``.
    n_jobs : int, default=None
        Threads: with more than one batch of images, up to ``n_jobs`` batches
        are transformed at once in a thread pool (NumPy and :mod:`scipy.fft`
        release the GIL, and each batch writes its
        own rows of the output, so nothing is copied); with a single batch,
        the threads of :mod:`scipy.fft` (its ``workers`` argument). ``None``
        means 1, -1 all cores. Peak memory grows with ``n_jobs x
        batch_size``.

    Attributes
    ----------
    kernels_ : list of ndarray
        The complex kernels of the bank (frequency-major, then orientation).
    kernel_params_ : list of dict
        Parameters of each kernel (``frequency``, ``theta``, ``bandwidth``,
        ``sigma_x``, ``sigma_y``, ``n_stds``, ``offset``, ``shape``).
    image_shape_ : tuple of int
        The ``(H, W, C)`` image shape used.
    pool_grid_ : tuple of int
        The pooling grid used (``pool_grid`` clipped to the image size).
    cascade_pairs_ : list of tuple of int
        For ``order=2``, the ``(i, j)`` indices into ``kernels_`` of each
        second-order path ``|I * g_i| * g_j``, in output order; empty for
        ``order=1``.
    channel_names_ : list of str
        Names of the filtered channels.
    fft_shape_ : tuple of int
        Size of the periodic buffer that the FFTs use.
    strides_ : list of tuple of int
        Per kernel, the ``(row, column)`` subsampling used by
        ``resolution='auto'`` (``(1, 1)`` = full resolution).
    flip_pairs_ : ndarray of shape (n_features_out, 2) or None
        For ``flip_invariant=True``, output column ``m`` is the mean of the
        columns ``flip_pairs_[m, 0]`` (the representative, the smaller index)
        and ``flip_pairs_[m, 1]`` (its mirror) of the layout without
        ``flip_invariant`` (equal for a column that is its own mirror);
        ``None`` otherwise.
    n_features_in_ : int
        Number of features seen during :term:`fit`.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit` (string column names only).

    Notes
    -----
    Input values: float ``X`` is used as is (any scale). Integer ``X`` is
    read as 8-bit images: values must lie in ``[0, 255]`` and are scaled by
    ``1 / 255`` (so ``uint8`` and ``float`` images in ``[0, 1]`` give the same
    features); boolean ``X`` becomes 0. / 1. NaN, infinity and sparse
    matrices are rejected. :meth:`transform` does not modify ``X`` or the
    estimator, so it may be called from several threads.

    The output has ``n_filters x n_parts x n_channels x gh x gw x n_stats``
    columns in that (C) order, with ``n_parts = 2`` for 'rectified' and 1
    otherwise, then for ``order=2`` the ``n_pairs x n_channels x gh x gw x
    n_stats`` cascade columns; with ``flip_invariant=True`` only the columns
    ``flip_pairs_[:, 0]`` of this layout remain (each averaged with its
    mirror). :meth:`get_feature_names_out` names them.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_gabor import GaborTransformer
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randint(0, 256, size=(5, 16 * 16 * 3)).astype(np.uint8)
    >>> gt = GaborTransformer(image_shape=(16, 16, 3), frequencies=(0.1, 0.3),
    ...                       n_orientations=4, pool_grid=(2, 2))
    >>> F = gt.fit_transform(X)
    >>> F.shape, F.dtype  # 8 filters x 3 channels x 4 cells x 1 statistic
    ((5, 96), dtype('float32'))
    >>> gt.get_feature_names_out()[0]
    'f0.1_theta0_ch0_cell0-0_mean'
    """

    _parameter_constraints: dict = {
        "image_shape": ["array-like", None],
        "frequencies": [Interval(Real, 0, 0.5, closed="right"), "array-like"],
        "n_orientations": [Interval(Integral, 1, None, closed="left")],
        "thetas": ["array-like", None],
        "bandwidth": [Interval(Real, 0, None, closed="neither")],
        "sigma_x": [Interval(Real, 0, None, closed="neither"), None],
        "sigma_y": [Interval(Real, 0, None, closed="neither"), None],
        "n_stds": [Interval(Real, 0, None, closed="neither")],
        "offset": [Interval(Real, None, None, closed="neither")],
        "nonlinearity": [StrOptions(set(_NONLINEARITIES))],
        "mode": [StrOptions({"reflect", "constant", "wrap"})],
        "color": [StrOptions({"per_channel", "gray", "opponent"})],
        "pool_grid": ["array-like"],
        "pool_stats": [StrOptions(set(_STATS)), "array-like"],
        "compression": [StrOptions({"none", "log1p", "sqrt"})],
        "contrast_normalization": ["boolean"],
        "resolution": [StrOptions({"auto", "full"})],
        "order": [Interval(Integral, 1, 2, closed="both")],
        "flip_invariant": ["boolean"],
        "dtype": [StrOptions({"float32", "float64"}), None],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "n_jobs": [
            Interval(Integral, 1, None, closed="left"),
            Interval(Integral, None, -1, closed="right"),
            None,
        ],
    }

    def __init__(
        self,
        image_shape=None,
        *,
        frequencies=(0.05, 0.1, 0.2, 0.4),
        n_orientations=8,
        thetas=None,
        bandwidth=1.0,
        sigma_x=None,
        sigma_y=None,
        n_stds=3.0,
        offset=0.0,
        nonlinearity="modulus",
        mode="reflect",
        color="per_channel",
        pool_grid=(4, 4),
        pool_stats=("mean",),
        compression="none",
        contrast_normalization=False,
        resolution="auto",
        order=1,
        flip_invariant=False,
        dtype="float32",
        batch_size=256,
        n_jobs=None,
    ):
        self.image_shape = image_shape
        self.frequencies = frequencies
        self.n_orientations = n_orientations
        self.thetas = thetas
        self.bandwidth = bandwidth
        self.sigma_x = sigma_x
        self.sigma_y = sigma_y
        self.n_stds = n_stds
        self.offset = offset
        self.nonlinearity = nonlinearity
        self.mode = mode
        self.color = color
        self.pool_grid = pool_grid
        self.pool_stats = pool_stats
        self.compression = compression
        self.contrast_normalization = contrast_normalization
        self.resolution = resolution
        self.order = order
        self.flip_invariant = flip_invariant
        self.dtype = dtype
        self.batch_size = batch_size
        self.n_jobs = n_jobs

    # ------------------------------------------------------------------ input
    def _validate_X(self, X, reset):
        check_no_array_api_dispatch(self)
        if sp.issparse(X):
            raise ValueError(
                f"{type(self).__name__} does not accept sparse X: images must be "
                f"a dense array of shape (n_samples, H * W * C); got a sparse "
                f"matrix of shape {X.shape}. Use X.toarray()."
            )
        X = validate_data(
            self,
            X,
            reset=reset,
            dtype="numeric",
            accept_sparse=False,
            ensure_all_finite=True,
        )
        if X.dtype.kind in "iu" and X.dtype != np.uint8 and X.size:
            lo, hi = X.min(), X.max()
            if lo < 0 or hi > 255:
                raise ValueError(
                    "Integer X is read as 8-bit images and must hold values in "
                    f"[0, 255]; got values in [{lo}, {hi}]. Pass float X to use "
                    "another intensity scale."
                )
        return X

    def _resolve_image_shape(self, n_features):
        shape = self.image_shape
        if shape is None:
            r = math.isqrt(n_features)
            return (r, r, 1) if r * r == n_features else (1, n_features, 1)
        shape = tuple(np.asarray(shape).tolist()) if not isinstance(shape, tuple) else shape
        if (
            len(shape) not in (2, 3)
            or not all(isinstance(s, Integral) and not isinstance(s, bool) for s in shape)
            or min(shape) < 1
        ):
            raise ValueError(
                "image_shape must be (H, W) or (H, W, C) with positive ints; "
                f"got {self.image_shape!r}."
            )
        shape = tuple(int(s) for s in shape)
        if len(shape) == 2:
            shape = shape + (1,)
        if math.prod(shape) != n_features:
            raise ValueError(
                f"X has {n_features} features, but image_shape={self.image_shape!r} "
                f"requires H * W * C = {math.prod(shape)} features per row."
            )
        return shape

    def _resolve_pool(self, H, W):
        grid = self.pool_grid
        try:
            grid = tuple(int(g) for g in grid)
            ok = len(grid) == 2 and min(grid) >= 1 and all(
                float(g) == int(g) for g in self.pool_grid
            )
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise ValueError(
                f"pool_grid must be a pair of ints >= 1; got {self.pool_grid!r}."
            )
        stats = self.pool_stats
        stats = (stats,) if isinstance(stats, str) else tuple(stats)
        bad = [s for s in stats if s not in _STATS]
        if not stats or bad or len(set(stats)) != len(stats):
            raise ValueError(
                "pool_stats must be a non-empty sequence of distinct values from "
                f"{_STATS}; got {self.pool_stats!r}."
            )
        return (min(grid[0], H), min(grid[1], W)), stats

    def _color_matrix(self, C):
        if self.color == "per_channel":
            return None, [f"ch{c}" for c in range(C)]
        if self.color == "gray":
            w = _GRAY_WEIGHTS if C == 3 else np.full(C, 1.0 / C)
            return w[None, :], ["gray"]
        if C != 3:
            raise ValueError(
                "color='opponent' needs 3 (RGB) channels, but image_shape="
                f"{self.image_shape!r} gives C={C}."
            )
        return _OPPONENT, ["lum", "rg", "yb"]

    # -------------------------------------------------------------------- fit
    @_fit_context(prefer_skip_nested_validation=True)
    @restore_on_failure
    def fit(self, X, y=None):
        """Validate the parameters and ``X`` and build the filter bank.

        Parameters
        ----------
        X : array-like of shape (n_samples, H * W * C)
            Flattened images (only its shape is used).
        y : None
            Ignored.

        Returns
        -------
        self : GaborTransformer
            The fitted transformer.
        """
        X = self._validate_X(X, reset=True)
        H, W, C = self._resolve_image_shape(X.shape[1])
        freqs = np.atleast_1d(np.asarray(self.frequencies, dtype=float))
        if freqs.ndim != 1 or freqs.size == 0:
            raise ValueError(
                f"frequencies must be a number or a non-empty 1-D sequence; got "
                f"{self.frequencies!r}."
            )
        if not np.all(np.isfinite(freqs) & (freqs > 0) & (freqs <= 0.5)):
            raise ValueError(
                "frequencies must lie in (0, 0.5] cycles per pixel (0.5 is the "
                f"Nyquist frequency); got {self.frequencies!r}."
            )
        thetas = None
        if self.thetas is not None:
            thetas = np.atleast_1d(np.asarray(self.thetas, dtype=float))
            if thetas.ndim != 1 or thetas.size == 0 or not np.all(np.isfinite(thetas)):
                raise ValueError(
                    "thetas must be a non-empty 1-D sequence of finite angles in "
                    f"radians; got {self.thetas!r}."
                )
        (gh, gw), stats = self._resolve_pool(H, W)
        color_matrix, channel_names = self._color_matrix(C)
        bounds_h, bounds_w = _cell_bounds(H, gh), _cell_bounds(W, gw)
        if self.flip_invariant:
            if self.nonlinearity not in ("modulus", "squared"):
                raise ValueError(
                    "flip_invariant=True needs nonlinearity='modulus' or 'squared' "
                    "(for signed responses the mirror of orientation 0, its complex "
                    "conjugate, and the phase offset break the mirror identity); got "
                    f"nonlinearity={self.nonlinearity!r}."
                )
            if not np.array_equal(W - bounds_w[::-1], bounds_w):
                raise ValueError(
                    "flip_invariant=True needs pooling cells that are mirror images "
                    f"across the image's vertical axis, i.e. an image width W={W} "
                    f"divisible by the number of cell columns; got pool_grid="
                    f"{self.pool_grid!r} ({gw} columns of cells, boundaries "
                    f"{bounds_w.tolist()})."
                )

        kernels, params = gabor_bank(
            freqs,
            self.n_orientations,
            thetas=thetas,
            bandwidth=self.bandwidth,
            sigma_x=self.sigma_x,
            sigma_y=self.sigma_y,
            n_stds=self.n_stds,
            offset=self.offset,
        )
        mirror = None
        if self.flip_invariant:
            mirror, lonely = _mirror_kernels(params)
            if mirror is None:
                shown = self.thetas if self.thetas is not None else "the default"
                raise ValueError(
                    "flip_invariant=True needs orientations closed under the left-"
                    "right mirror theta -> pi - theta (mod pi, with as many copies "
                    f"of each): thetas={shown!r} has no mirror for theta="
                    f"{lonely:.6g} (pi - theta = {np.pi - lonely:.6g})."
                )
        # coarse sampling biases 'max' and 'std' by a few percent: mean only
        reduced = (
            self.resolution == "auto"
            and self.nonlinearity in ("modulus", "squared")
            and stats == ("mean",)
            and self.order == 1  # the cascade needs full-resolution maps
        )
        fft_shape, index_maps, strides, plan = _build_plan(
            kernels, (H, W), self.mode, bounds_h, bounds_w, reduced
        )
        cascade, pairs = None, []
        if self.order == 2:
            reduced2 = self.resolution == "auto" and stats == ("mean",)
            kfreq = np.array([prm["frequency"] for prm in params])
            cascade, offset = [], 0
            for f1 in np.unique(kfreq):
                second = np.flatnonzero(kfreq < f1)
                if second.size == 0:
                    continue
                first = np.flatnonzero(kfreq == f1)
                _, maps2, _, plan2 = _build_plan(
                    [kernels[j] for j in second], (H, W), self.mode,
                    bounds_h, bounds_w, reduced2,
                )
                cascade.append(
                    {"first": first, "n_second": second.size, "offset": offset,
                     "index_maps": maps2, "plan": plan2}
                )
                pairs += [(i, j) for i in first for j in second]
                offset += first.size * second.size

        flip_pairs = None
        if mirror is not None:
            perm = _flip_permutation(
                mirror, len(self._parts()), len(channel_names), (gh, gw),
                len(stats), pairs,
            )
            keep = np.flatnonzero(np.arange(perm.size) <= perm)
            flip_pairs = np.stack([keep, perm[keep]], axis=1)

        self.kernels_ = kernels
        self.kernel_params_ = params
        self.image_shape_ = (H, W, C)
        self.pool_grid_ = (gh, gw)
        self.channel_names_ = channel_names
        self.fft_shape_ = fft_shape
        self.strides_ = strides
        self._stats = stats
        self._bounds = (bounds_h, bounds_w)
        self._color = color_matrix
        self._index_maps = index_maps
        self._plan = plan
        self._cascade = cascade
        self.cascade_pairs_ = pairs
        self.flip_pairs_ = flip_pairs
        return self

    # -------------------------------------------------------------- transform
    def _out_dtype(self, in_dtype):
        if self.dtype is not None:
            return np.dtype(self.dtype)
        return np.dtype(np.float64) if in_dtype == np.float64 else np.dtype(np.float32)

    def _parts(self):
        return ("re+", "im+") if self.nonlinearity == "rectified" else ("",)

    def transform(self, X):
        """Gabor features of the images in ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, H * W * C)
            Flattened images (see the class docstring for dtypes and scale).

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_features_out)
            The pooled features, float32 unless ``dtype`` says otherwise.
        """
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        dtype = self._out_dtype(X.dtype)
        cdtype = np.result_type(dtype, np.complex64)
        H, W, _ = self.image_shape_
        gh, gw = self.pool_grid_
        n_filters = len(self.kernels_)
        n_parts = len(self._parts())
        n_chan = len(self.channel_names_)
        n_stats = len(self._stats)
        n = X.shape[0]
        n_first = n_filters * n_parts * n_chan * gh * gw * n_stats
        n_pairs = len(self.cascade_pairs_)
        n_full = n_first + n_pairs * n_chan * gh * gw * n_stats
        flip = getattr(self, "flip_pairs_", None)

        def views(a):
            m = a.shape[0]
            return (
                a[:, :n_first].reshape(m, n_filters, n_parts, n_chan, gh, gw, n_stats),
                a[:, n_first:].reshape(m, n_pairs, n_chan, gh, gw, n_stats),
            )

        if flip is None:
            out = np.empty((n, n_full), dtype)
            view = views(out)
        else:
            out = np.empty((n, flip.shape[0]), dtype)
        plan = [dict(g, kernels=g["kernels"].astype(cdtype)) for g in self._plan]
        if self._cascade is not None:
            plan = (plan, [
                dict(step, plan=[dict(g, kernels=g["kernels"].astype(cdtype))
                                 for g in step["plan"]])
                for step in self._cascade
            ])
        starts = range(0, n, self.batch_size)
        n_threads = min(_n_threads(self.n_jobs), len(starts))
        # with several batches in flight, each runs its FFTs on one thread
        workers = 1 if n_threads > 1 else self.n_jobs

        local = threading.local()  # one full-width batch buffer per thread

        def run_batch(start):
            stop = min(start + self.batch_size, n)
            if flip is None:
                self._transform_batch(
                    X[start:stop], tuple(v[start:stop] for v in view), plan, dtype, workers
                )
                return
            # full-width features of this batch, symmetrized into the reduced
            # output: (F[:, k] + F[:, perm[k]]) / 2 before compression
            if not hasattr(local, "full"):
                local.full = np.empty((min(n, self.batch_size), n_full), dtype)
            fb = local.full[: stop - start]
            self._transform_batch(X[start:stop], views(fb), plan, dtype, workers)
            ob = out[start:stop]
            np.add(fb[:, flip[:, 0]], fb[:, flip[:, 1]], out=ob)
            ob *= dtype.type(0.5)

        if n_threads > 1:
            # batches write disjoint rows of `out`; NumPy and scipy.fft release
            # the GIL, so threads share the work without copying X. A plain
            # thread pool: joblib would follow an active parallel_config (e.g.
            # the dask backend of an enclosing GridSearchCV) and nest in it.
            with ThreadPoolExecutor(n_threads) as pool:
                list(pool.map(run_batch, starts))
        else:
            for start in starts:
                run_batch(start)
        if self.compression == "log1p":
            np.copysign(np.log1p(np.abs(out)), out, out=out)
        elif self.compression == "sqrt":
            np.copysign(np.sqrt(np.abs(out)), out, out=out)
        if not np.all(np.isfinite(out)):
            raise ValueError(
                f"The Gabor features overflowed to inf or NaN: X holds values up to "
                f"{np.abs(X).max():.3g}, too large for {dtype} arithmetic "
                f"(nonlinearity={self.nonlinearity!r}, pool_stats={self._stats}). "
                "Rescale X (e.g. to [0, 1])"
                + ("." if dtype == np.float64 else " or set dtype='float64'.")
            )
        return out

    def _images(self, Xb, dtype):
        """Rows -> float channel-first images ``(B, C', H, W)``."""
        H, W, C = self.image_shape_
        if Xb.dtype.kind in "iu":
            img = Xb.astype(dtype)
            img *= dtype.type(1 / 255)
        else:
            img = Xb.astype(dtype, copy=True)
        img = img.reshape(-1, H, W, C)
        if self.contrast_normalization:
            flat = img.reshape(img.shape[0], -1)
            mean = flat.mean(axis=1, dtype=np.float64)
            var = flat.var(axis=1, dtype=np.float64)
            scale = 1.0 / np.sqrt(var + 1e-8)
            flat -= mean[:, None].astype(dtype)
            flat *= scale[:, None].astype(dtype)
        if self._color is not None:
            img = img @ self._color.T.astype(dtype)
        return np.ascontiguousarray(img.transpose(0, 3, 1, 2))

    def _transform_batch(self, Xb, out, plan, dtype, workers=None):
        img = self._images(Xb, dtype)
        B, C = img.shape[:2]
        H, W, _ = self.image_shape_
        bounds_h, bounds_w = self._bounds
        cascade = None
        if self._cascade is not None:
            plan, cascade = plan
            # first-order modulus maps at full resolution, input of the cascade
            U = np.empty((B, C, len(self.kernels_), H, W), dtype)
        for group, filters, resp in _filtered(
            img, plan, self._index_maps, self.mode, (H, W), workers
        ):
            sh, sw = group["stride"]
            bh, bw = bounds_h // sh, bounds_w // sw
            for p, maps in enumerate(self._nonlinear(resp)):
                pooled = _pool(maps, bh, bw, self._stats)  # (B, C, F, gh, gw, S)
                out[0][:, filters, p] = pooled.transpose(0, 2, 1, 3, 4, 5)
            if cascade is not None:
                U[:, :, filters] = np.abs(resp)
        if cascade is None:
            return
        del img
        for step in cascade:
            first = step["first"]
            n1, n2 = len(first), step["n_second"]
            src = U[:, :, first].reshape(B, C * n1, H, W)
            for group, filters, resp in _filtered(
                src, step["plan"], step["index_maps"], self.mode, (H, W), workers
            ):
                sh, sw = group["stride"]
                pooled = _pool(np.abs(resp), bounds_h // sh, bounds_w // sw, self._stats)
                pooled = pooled.reshape((B, C, n1) + pooled.shape[2:])
                for a in range(n1):  # pair (first[a], second[f]) at offset + a n2 + f
                    cols = step["offset"] + a * n2 + filters
                    out[1][:, cols] = pooled[:, :, a].transpose(0, 2, 1, 3, 4, 5)

    def _nonlinear(self, resp):
        nl = self.nonlinearity
        if nl == "modulus":
            return [np.abs(resp)]
        if nl == "squared":
            return [resp.real**2 + resp.imag**2]
        if nl == "real":
            return [np.ascontiguousarray(resp.real)]
        if nl == "imag":
            return [np.ascontiguousarray(resp.imag)]
        return [np.maximum(resp.real, 0), np.maximum(resp.imag, 0)]

    # ------------------------------------------------------------ names, tags
    def get_feature_names_out(self, input_features=None):
        """Names of the output features.

        Each name is ``f{frequency}_theta{degrees}[_{part}]_{channel}_cell{row}-{col}_{stat}``,
        e.g. ``'f0.1_theta22.5_ch2_cell0-3_mean'``; ``part`` ('re+' or 'im+')
        appears only for ``nonlinearity='rectified'``. Second-order paths
        (``order=2``) are named
        ``f{f1}_theta{deg1}_f{f2}_theta{deg2}_{channel}_cell{row}-{col}_{stat}``.
        With ``flip_invariant=True`` each kept column is named after its
        representative (``flip_pairs_[:, 0]``) with the suffix ``_lrmean``
        (left-right mean), e.g. ``'f0.1_theta22.5_ch2_cell0-0_mean_lrmean'``
        is the mean of that feature and of its mirror
        ``'f0.1_theta157.5_ch2_cell0-3_mean'`` (``pool_grid=(4, 4)``).

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Only checked against the input feature names seen in :term:`fit`.

        Returns
        -------
        feature_names_out : ndarray of str objects
            The output feature names.
        """
        check_is_fitted(self)
        _check_feature_names_in(self, input_features, generate_names=False)
        gh, gw = self.pool_grid_
        names = []
        for prm in self.kernel_params_:
            deg = np.degrees(prm["theta"])
            head = f"f{prm['frequency']:.4g}_theta{deg:.4g}"
            for part in self._parts():
                p = f"_{part}" if part else ""
                for ch in self.channel_names_:
                    for a in range(gh):
                        for b in range(gw):
                            for stat in self._stats:
                                names.append(f"{head}{p}_{ch}_cell{a}-{b}_{stat}")
        for i, j in self.cascade_pairs_:
            head = "_".join(
                f"f{prm['frequency']:.4g}_theta{np.degrees(prm['theta']):.4g}"
                for prm in (self.kernel_params_[i], self.kernel_params_[j])
            )
            for ch in self.channel_names_:
                for a in range(gh):
                    for b in range(gw):
                        for stat in self._stats:
                            names.append(f"{head}_{ch}_cell{a}-{b}_{stat}")
        flip = getattr(self, "flip_pairs_", None)
        if flip is not None:
            names = [names[k] + "_lrmean" for k in flip[:, 0]]
        return np.asarray(names, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        if self.dtype is None:
            tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        else:
            tags.transformer_tags.preserves_dtype = [self.dtype]
        return tags
