"""How responses are computed: the FFT plan of a filter bank.

This module is the seam between the filtering algorithm and everything that
uses its results. :func:`build_plan` prepares a bank of kernels for images
of one shape and boundary mode; :meth:`FilterPlan.responses` turns a batch of
channel-first images into complex responses, chunk by chunk:

* each chunk is ``(filters, stride, maps)``: ``filters`` indexes the
  kernels given to :func:`build_plan`; ``maps`` has shape
  ``(B, C, len(filters), H // sh, W // sw)`` and holds the complex response
  ``I * g`` (a true convolution with ``mode``'s boundary extension) sampled
  every ``stride = (sh, sw)`` pixels at the centres of ``sh x sw`` blocks;
* ``stride`` is ``(1, 1)`` (the full map) unless the plan was built with
  ``max_strides`` above 1, and then only the modulus of ``maps`` is
  accurate (the responses are demodulated, see :func:`build_plan`).

With ``demodulate=True`` (modulus responses only) a filter may instead be
evaluated from the few spectral bins where its kernel lives (see
:class:`BandGroup`): two small matrix products per map instead of an inverse
FFT over the whole grid.

:meth:`FilterPlan.responses_last` computes the same responses of a
demodulated plan for real maps stored with the maps on the last axis,
``(..., H, W, n)`` -> ``(..., len(filters), H // sh, W // sw, n)``: every
filter's products are then a few large matrix products over all ``n`` maps
instead of one small product per map (about 2x faster per map on CIFAR-10
sizes); the transformer's first layer and the cascade's second layer use it.

Callers (pooling, the cascade, :func:`~sklearn_gabor.gabor_responses`) rely on
nothing else, so another algorithm (coarse inverse FFTs per frequency band,
separable kernels, ...) can replace this one behind the same two calls.
"""

import itertools
import math
from dataclasses import dataclass, replace

import numpy as np
import scipy.fft

from ._support import axis_layout

__all__ = ["BandGroup", "FilterGroup", "FilterPlan", "build_plan"]

# Fraction of a kernel's spectral energy allowed outside the reduced band for
# the reduced-resolution path; see build_plan.
SPECTRAL_LEAK_TOL = 1e-3
_GUARD = 2
# Target size (bytes) of the complex temporaries of one filter chunk.
_CHUNK_BYTES = 16 * 2**20
# The same for a chunk of maps-last band products (see
# FilterPlan.responses_last): small enough to stay in a core's L2 cache.
_LAST_CHUNK_BYTES = 2**20
# Fraction of a kernel's (prior-weighted) spectral energy left outside the
# bins of a band group, per axis; see _band_size.
BAND_TOL = 1e-6
# Rough per-map costs (microseconds) of a 2-D complex64 inverse FFT of N
# points, ``_FFT_COST[0] + _FFT_COST[1] * N log2 N``, and of the two matrix
# products of a band group, ``_MM_COST[0] + _MM_COST[1] * multiply-adds``
# (measured with scipy.fft and OpenBLAS, one thread).
_FFT_COST = (10.0, 2e-3)
# Fewest kernels given a buffer (and a forward FFT) of their own.
_MIN_SPLIT = 6
_MM_COST = (3.0, 6e-4)


def _window(center, m, length):
    """Spectral bins ``center + q`` (mod ``length``), ``q`` in FFT order."""
    q = np.rint(np.fft.fftfreq(m) * m).astype(int)
    return np.mod(center + q, length), q


def _flat_bins(kh, kw, Lh, Lw):
    """Flat indices of the bins ``(kh, kw)`` (arrays of one shape) in the full
    spectrum ``(Lh, Lw)``, in the half spectrum of :func:`scipy.fft.rfft2`, and
    whether each is the conjugate of its mirror there (real images)."""
    mirror = kw > Lw // 2  # rfft2 keeps columns 0 .. Lw // 2
    hh = np.where(mirror, np.mod(-kh, Lh), kh)
    hw = np.where(mirror, Lw - kw, kw)
    return (kh * Lw + kw).ravel(), (hh * (Lw // 2 + 1) + hw).ravel(), mirror.ravel()


def _gather(spec, group, f0, f1, is_half):
    """Bins of the filters ``f0:f1`` of ``group`` from the spectra ``(B, C, Lh, L)``
    of the images (full, or halves of real images): ``(B, C, f1 - f0, n_bins)``."""
    flat = spec.reshape(spec.shape[:2] + (-1,))
    if not is_half:
        return np.take(flat, group.index[f0:f1], axis=2)
    z = np.take(flat, group.half[f0:f1], axis=2)
    np.conjugate(z, out=z, where=group.conj[f0:f1])
    return z


def _bin_table(half):
    """The half spectra ``(..., Lh, Lw // 2 + 1, n)`` of ``n`` real maps (on the
    last axis) and their conjugates, bins flat: ``(..., 2 n_bins, n)``, row ``i``
    bin ``i`` of every map and row ``n_bins + i`` its conjugate, so that a
    window, mirrored bins included, is one ``take`` of whole rows."""
    lead, n = half.shape[:-3], half.shape[-1]
    n_bins = half.shape[-3] * half.shape[-2]
    table = np.empty(lead + (2 * n_bins, n), half.dtype)
    table[..., :n_bins, :] = half.reshape(lead + (n_bins, n))
    np.conjugate(table[..., :n_bins, :], out=table[..., n_bins:, :])
    return table


def _table_rows(half, conj, n_bins):
    """Rows of :func:`_bin_table` for half-spectrum bins ``half`` (conjugated where ``conj``)."""
    return half + n_bins * conj


@dataclass(frozen=True)
class FilterGroup:
    """Filters computed on the same grid, ``stride`` times coarser than the image.

    ``spectra[i]`` is the kernel spectrum of filter ``filters[i]`` on the
    full FFT grid (``full``), or its window of the coarse grid's size,
    demodulated and phase shifted to the block centres. The window's bins
    are ``index[i]`` (flat, in the full spectrum) or ``half[i]`` in the half
    spectrum of :func:`scipy.fft.rfft2`, conjugated where ``conj[i]`` (see
    :class:`BandGroup`), so that real images need no full spectrum.
    """

    filters: np.ndarray
    stride: tuple
    full: bool
    index: np.ndarray
    half: np.ndarray
    conj: np.ndarray
    spectra: np.ndarray


@dataclass(frozen=True)
class BandGroup:
    """Filters evaluated from a band of ``Ph x Pw`` spectral bins (demodulated).

    The response of filter ``filters[i]`` sampled every ``stride`` pixels
    (at block centres) is ``rows @ (X_hat[band_i] * spectra[i]) @ cols``,
    up to a phase, with ``X_hat`` the image spectrum and ``band_i`` the
    consecutive bins ``start_i + q``, ``q = 0 .. P - 1`` along each axis,
    that hold all but BAND_TOL of the kernel's prior-weighted energy along
    each axis.
    ``rows`` ``(Ho, Ph)`` and ``cols`` ``(Pw, Wo)`` evaluate the inverse DFT
    of the demodulated band only at the sample positions, so nothing is
    aliased and no sample is computed that is not used. ``index`` holds the
    flat indices of the bins in the full spectrum ``(Lh, Lw)``, ``half`` and
    ``conj`` those in the half spectrum of :func:`scipy.fft.rfft2` and whether
    the bin is the conjugate of its mirror there (real images).
    """

    filters: np.ndarray
    stride: tuple
    index: np.ndarray
    half: np.ndarray
    conj: np.ndarray
    spectra: np.ndarray
    rows: np.ndarray
    cols: np.ndarray

    def astype(self, dtype):
        return replace(self, spectra=self.spectra.astype(dtype), rows=self.rows.astype(dtype),
                       cols=self.cols.astype(dtype))

    def responses(self, spec, is_half, B, C):
        """Yield ``(filters, maps)`` chunks from the spectra ``(B, C, Lh, L)``."""
        F, Ph, Pw = self.spectra.shape
        Ho, Wo = self.rows.shape[0], self.cols.shape[1]
        itemsize = np.dtype(spec.dtype).itemsize
        per_filter = B * C * (Ph * Pw + Ph * Wo + Ho * Wo) * itemsize
        chunk = max(1, _CHUNK_BYTES // per_filter)
        for f0 in range(0, F, chunk):
            f1 = min(f0 + chunk, F)
            z = _gather(spec, self, f0, f1, is_half).reshape(B, C, f1 - f0, Ph, Pw)
            z *= self.spectra[f0:f1]
            # per-map products of fixed shapes: results independent of the
            # batch size and thread count (small, single-threaded GEMMs)
            y = np.matmul(z, self.cols)
            yield self.filters[f0:f1], np.matmul(self.rows, y)

    def responses_last(self, table, n_bins):
        """Yield ``(filters, maps)``, ``maps`` of shape ``(..., f, Ho, Wo, n)``,
        from the :func:`_bin_table` ``(..., 2 n_bins, n)`` of real maps.

        For each filter the band ``Z`` ``(Ph, Pw, n)`` of every map is one
        ``take``; ``(cols.T * K[p]) @ Z[p]`` for each band row ``p`` (``K``
        the kernel's band), then ``rows`` over the band rows, are matrix
        products whose last axis is all ``n`` maps.
        """
        F, Ph, Pw = self.spectra.shape
        Ho, Wo = self.rows.shape[0], self.cols.shape[1]
        lead, n = table.shape[:-2], table.shape[-1]
        m = int(np.prod(lead)) * n
        rows = _table_rows(self.half, self.conj, n_bins)
        # the kernel's band row p folded into the column matrix: cols.T * K[p]
        left = self.cols.T[None, None] * self.spectra[:, :, None, :]  # (F, Ph, Wo, Pw)
        per_filter = m * (Ph * Pw + Ph * Wo + Ho * Wo) * np.dtype(table.dtype).itemsize
        chunk = max(1, _LAST_CHUNK_BYTES // per_filter)
        for f0 in range(0, F, chunk):
            f1 = min(f0 + chunk, F)
            z = np.take(table, rows[f0:f1], axis=-2)  # (..., f, Ph * Pw, n)
            y = np.matmul(left[f0:f1].reshape(-1, Wo, Pw), z.reshape(lead + (-1, Pw, n)))
            r = np.matmul(self.rows, y.reshape(lead + (f1 - f0, Ph, Wo * n)))
            yield self.filters[f0:f1], r.reshape(lead + (f1 - f0, Ho, Wo, n))


@dataclass(frozen=True)
class FilterPlan:
    """A bank prepared for images of ``shape`` with boundary ``mode``."""

    shape: tuple
    mode: str
    rows: object  # AxisLayout
    cols: object  # AxisLayout
    strides: tuple
    groups: tuple
    demodulated: bool = False
    # ((filters, FilterPlan), ...): kernels on buffers of their own lengths
    parts: tuple = ()

    @property
    def fft_shape(self):
        return self.rows.length, self.cols.length

    def astype(self, dtype):
        """The same plan with spectra of complex ``dtype``."""
        if self.parts:
            return replace(self, parts=tuple((f, p.astype(dtype)) for f, p in self.parts))
        groups = tuple(
            g.astype(dtype) if isinstance(g, BandGroup) else replace(g, spectra=g.spectra.astype(dtype))
            for g in self.groups
        )
        return replace(self, groups=groups)

    def responses(self, img, workers=None):
        """Yield ``(filters, stride, maps)`` for channel-first images ``(B, C, H, W)``.

        ``workers`` is passed to :mod:`scipy.fft` (a positive thread count or
        None). The spectra's dtype (see :meth:`astype`) sets the precision.
        """
        for filters, part in self.parts:
            for f, stride, maps in part.responses(img, workers):
                yield filters[f], stride, maps
        if not self.groups:
            return
        B, C = img.shape[:2]
        H, W = self.shape
        buf = self._buffer(img)
        # real images, demodulated plan: one real FFT per channel; band groups
        # read the half spectrum, FFT groups its Hermitian completion
        is_half = np.isrealobj(buf) and self.demodulated
        fft = scipy.fft.rfft2 if is_half else scipy.fft.fft2
        half = spec = fft(buf, axes=(-2, -1), workers=workers)
        del buf
        if is_half and any(isinstance(g, FilterGroup) and g.full for g in self.groups):
            spec = _hermitian_full(half, self.fft_shape)
        itemsize = np.dtype(spec.dtype).itemsize
        for group in self.groups:
            if isinstance(group, BandGroup):
                for filters, maps in group.responses(half, is_half, B, C):
                    yield filters, group.stride, maps
                continue
            sh, sw = group.stride
            kern = group.spectra
            per_filter = B * C * kern.shape[1] * kern.shape[2] * itemsize
            chunk = max(1, _CHUNK_BYTES // per_filter)
            for f0 in range(0, len(group.filters), chunk):
                f1 = min(f0 + chunk, len(group.filters))
                if group.full:
                    resp = spec[:, :, None] * kern[None, None, f0:f1]
                else:  # one flat gather of each window, from the half spectrum if real
                    resp = _gather(half, group, f0, f1, is_half)
                    resp = resp.reshape((B, C) + kern[f0:f1].shape)
                    resp *= kern[None, None, f0:f1]
                resp = scipy.fft.ifft2(resp, axes=(-2, -1), overwrite_x=True, workers=workers)
                yield group.filters[f0:f1], (sh, sw), resp[..., : H // sh, : W // sw]

    def _buffer(self, img, axes=(-2, -1)):
        """The periodic FFT buffer of images: axes ``axes`` ``(H, W)`` become ``(Lh, Lw)``."""
        H, W = self.shape
        index_h, index_w = self.rows.index, self.cols.index
        if np.array_equal(index_h, np.arange(H)) and np.array_equal(index_w, np.arange(W)):
            return img  # 'wrap': the image is the buffer
        ah, aw = axes
        buf = np.take(np.take(img, np.maximum(index_h, 0), axis=ah), np.maximum(index_w, 0),
                      axis=aw)
        if self.mode == "constant":
            zero_h = [slice(None)] * buf.ndim
            zero_h[ah] = index_h < 0
            buf[tuple(zero_h)] = 0
            zero_w = [slice(None)] * buf.ndim
            zero_w[aw] = index_w < 0
            buf[tuple(zero_w)] = 0
        return buf

    def responses_last(self, img, workers=None):
        """Yield ``(filters, stride, maps)`` for real maps ``(..., H, W, n)`` (maps
        on the last axis), ``maps`` of shape ``(..., len(filters), H // sh,
        W // sw, n)``: the responses of :meth:`responses`, maps on the last
        axis. Demodulated plans only (the modulus of ``maps`` is the response's).
        """
        if not self.demodulated or not np.isrealobj(img):
            raise ValueError("responses_last needs a demodulated plan and real maps")
        for filters, part in self.parts:
            for f, stride, maps in part.responses_last(img, workers):
                yield filters[f], stride, maps
        if not self.groups:
            return
        H, W = self.shape
        Lh, Lw = self.fft_shape
        axes = (-3, -2)
        half = scipy.fft.rfft2(self._buffer(img, axes), axes=axes, workers=workers)
        n_bins = half.shape[-3] * half.shape[-2]
        table = _bin_table(half)
        del half
        lead, n = table.shape[:-2], table.shape[-1]
        itemsize = np.dtype(table.dtype).itemsize
        for group in self.groups:
            if isinstance(group, BandGroup):
                for filters, maps in group.responses_last(table, n_bins):
                    yield filters, group.stride, maps
                continue
            sh, sw = group.stride
            kern = group.spectra[..., None]  # (F, Mh, Mw, 1)
            if group.full:  # the whole spectrum, from the half one
                bins = _flat_bins(*np.meshgrid(np.arange(Lh), np.arange(Lw), indexing="ij"),
                                  Lh, Lw)
                spec = np.take(table, _table_rows(bins[1], bins[2], n_bins), axis=-2)
                spec = spec.reshape(lead + (1, Lh, Lw, n))
            per_filter = int(np.prod(lead)) * n * kern.shape[1] * kern.shape[2] * itemsize
            chunk = max(1, _CHUNK_BYTES // per_filter)
            for f0 in range(0, len(group.filters), chunk):
                f1 = min(f0 + chunk, len(group.filters))
                if group.full:
                    resp = spec * kern[f0:f1]
                else:
                    resp = np.take(table, _table_rows(group.half[f0:f1], group.conj[f0:f1],
                                                      n_bins), axis=-2)
                    resp = resp.reshape(lead + kern[f0:f1].shape[:3] + (n,))
                    resp *= kern[f0:f1]
                resp = scipy.fft.ifft2(resp, axes=axes, overwrite_x=True, workers=workers)
                yield group.filters[f0:f1], (sh, sw), resp[..., : H // sh, : W // sw, :]


def _hermitian_full(half, shape):
    """The full spectrum ``(..., Lh, Lw)`` of real images from their
    :func:`scipy.fft.rfft2` half spectrum ``(..., Lh, Lw // 2 + 1)``."""
    _, Lw = shape
    n = Lw // 2 + 1
    full = np.empty(half.shape[:-1] + (Lw,), half.dtype)
    full[..., :n] = half
    if Lw > n:  # X[k, l] = conj(X[-k, Lw - l]) for l > Lw // 2, by slicing
        cols = slice(Lw - n, 0, -1)
        np.conjugate(half[..., :1, cols], out=full[..., :1, n:])
        np.conjugate(half[..., :0:-1, cols], out=full[..., 1:, n:])
    return full


def _spectrum(kernel, Lh, Lw):
    """FFT of ``kernel`` centred at the origin of an ``Lh x Lw`` periodic grid."""
    kh, kw = kernel.shape
    buf = np.zeros((Lh, Lw), dtype=np.complex128)
    rows = np.mod(np.arange(kh) - (kh - 1) // 2, Lh)
    cols = np.mod(np.arange(kw) - (kw - 1) // 2, Lw)
    np.add.at(buf, (rows[:, None], cols[None, :]), kernel)
    return scipy.fft.fft2(buf)


def _best_stride(K, smax, prior, guard=_GUARD):
    """Coarsest power-of-two ``(sh, sw) <= smax`` whose band holds the spectrum.

    The band (around the spectral peak) must fit in the central
    ``1 / guard`` of the coarse spectrum, with at most SPECTRAL_LEAK_TOL of
    the energy (weighted by ``prior``) outside: with ``guard=2`` ``|r|^2``
    (twice as wide) is not aliased either; with ``guard=1`` only the
    response ``r`` is unaliased, so its samples are exact but the pooled
    means of ``|r|`` are sums over fewer points.
    """
    Lh, Lw = K.shape
    power = np.abs(K) ** 2
    ch, cw = np.unravel_index(np.argmax(power), power.shape)
    power = power * prior
    total = power.sum()
    best = (1, 1)
    for sh in (2**i for i in range(int(math.log2(smax[0])) + 1)):
        for sw in (2**i for i in range(int(math.log2(smax[1])) + 1)):
            if sh * sw <= best[0] * best[1]:
                continue
            wh, _ = _window(ch, max(1, Lh // (guard * sh)), Lh)
            ww, _ = _window(cw, max(1, Lw // (guard * sw)), Lw)
            inside = power[np.ix_(wh, ww)].sum()
            if total - inside <= SPECTRAL_LEAK_TOL * total:
                best = (sh, sw)
    return best, (ch, cw)


def _coarse_group(idx, spectra, peaks, stride, Lh, Lw):
    """Windowed, demodulated spectra of the filters ``idx`` for one stride."""
    sh, sw = stride
    Mh, Mw = Lh // sh, Lw // sw
    index, half, conj, kws = [], [], [], []
    for i in idx:
        ch, cw = peaks[i]
        wh, qh = _window(ch, Mh, Lh)
        ww, qw = _window(cw, Mw, Lw)
        # sample at block centres (s - 1) / 2 and fold in the ifft scaling
        ph = np.exp(2j * np.pi * qh * ((sh - 1) / 2) / Lh)
        pw = np.exp(2j * np.pi * qw * ((sw - 1) / 2) / Lw)
        scale = (Mh * Mw) / (Lh * Lw)
        kws.append(spectra[i][np.ix_(wh, ww)] * (ph[:, None] * pw[None, :]) * scale)
        bins = _flat_bins(*np.broadcast_arrays(wh[:, None], ww[None, :]), Lh, Lw)
        for store, b in zip((index, half, conj), bins):
            store.append(b)
    return FilterGroup(np.asarray(idx), stride, False, np.stack(index), np.stack(half),
                       np.stack(conj), np.stack(kws))


def _band_range(power, center, tol=BAND_TOL):
    """Fewest consecutive bins (circularly) around ``center``, as ``(lo, P)``:
    bins ``center + lo .. center + lo + P - 1``, that hold all but ``tol`` of
    the marginal energy ``power``; ``P`` rounded up to a multiple of 4 (so
    that filters share band sizes) and at most ``len(power)``."""
    L = len(power)
    total = power.sum()
    lo = hi = 0
    inside = power[center]
    while total - inside > tol * total and hi - lo + 1 < L:
        left, right = power[(center + lo - 1) % L], power[(center + hi + 1) % L]
        if left > right:
            lo -= 1
            inside += left
        else:
            hi += 1
            inside += right
    P = min(L, -(-(hi - lo + 1) // 4) * 4)
    return lo - (P - (hi - lo + 1)) // 2, P


def _band_plan(weighted, peak, stride, shape, tol=BAND_TOL):
    """Band ``((lo_h, Ph), (lo_w, Pw))`` of a filter (see :func:`_band_range`)
    and whether a band group costs less per map than an inverse FFT over the
    (coarse) grid."""
    Lh, Lw = weighted.shape
    (sh, sw), (H, W) = stride, shape
    band = (_band_range(weighted.sum(axis=1), peak[0], tol),
            _band_range(weighted.sum(axis=0), peak[1], tol))
    Ph, Pw = band[0][1], band[1][1]
    Ho, Wo = H // sh, W // sw
    n = (Lh // sh) * (Lw // sw)
    fft = _FFT_COST[0] + _FFT_COST[1] * n * math.log2(max(n, 2))
    cost = _MM_COST[0] + _MM_COST[1] * (Ph * Pw * Wo + Ho * Ph * Wo)
    return band, cost < fft


def _dft_rows(P, L, stride, n):
    """``(n, P)`` inverse-DFT matrix of band offsets ``0 .. P - 1`` at block centres."""
    y = stride * np.arange(n) + (stride - 1) / 2
    return np.exp(2j * np.pi * np.outer(y, np.arange(P)) / L)


def _band_group(idx, spectra, starts, stride, size, shape):
    """The :class:`BandGroup` of filters ``idx`` (one stride, one band size);
    the band of filter ``i`` starts at bins ``starts[i]``."""
    (sh, sw), (Ph, Pw), (H, W) = stride, size, shape
    Lh, Lw = spectra[idx[0]].shape
    index, half, conj, kws = [], [], [], []
    for i in idx:
        kh = np.broadcast_to(np.mod(starts[i][0] + np.arange(Ph), Lh)[:, None], (Ph, Pw))
        kw = np.broadcast_to(np.mod(starts[i][1] + np.arange(Pw), Lw)[None, :], (Ph, Pw))
        kws.append(spectra[i][kh, kw] / (Lh * Lw))
        for store, bins in zip((index, half, conj), _flat_bins(kh, kw, Lh, Lw)):
            store.append(bins)
    rows = _dft_rows(Ph, Lh, sh, H // sh)
    cols = _dft_rows(Pw, Lw, sw, W // sw).T
    return BandGroup(np.asarray(idx), stride, np.stack(index), np.stack(half), np.stack(conj),
                     np.stack(kws), rows, np.ascontiguousarray(cols))


def _split_by_length(kernels, shape, mode, max_strides):
    """Kernels grouped by the FFT buffer that their own size needs, ``{(Lh, Lw): [i, ...]}``."""
    H, W = shape
    by_length = {}
    for i, k in enumerate(kernels):
        Lh = axis_layout(H, (k.shape[0] - 1) // 2, mode, max_strides[0]).length
        Lw = axis_layout(W, (k.shape[1] - 1) // 2, mode, max_strides[1]).length
        by_length.setdefault((Lh, Lw), []).append(i)
    # a forward FFT per buffer: kernels of small groups move to the next larger one
    lengths = sorted(by_length)
    for a, b in itertools.pairwise(lengths):
        if len(by_length[a]) < _MIN_SPLIT and b[0] >= a[0] and b[1] >= a[1]:
            by_length[b] = sorted(by_length.pop(a) + by_length[b])
    return by_length


def build_plan(kernels, shape, mode, max_strides=(1, 1), demodulate=False, split=True,
               guard=_GUARD, band_tol=BAND_TOL):
    """Per-filter FFT layout: buffer maps, filter groups and spectral windows.

    Each filter is applied as ``ifft(X_hat[window] * K_hat[window])``. At
    full resolution (``max_strides=(1, 1)``) the window is the whole
    spectrum. Otherwise (for modulus / squared-modulus responses only) a
    filter whose spectrum fits, up to a fraction SPECTRAL_LEAK_TOL of its
    energy weighted by a natural-image spectrum ``1 / |k|^2``, in a band of
    ``L / (guard s)`` bins around its peak is demodulated (the peak moved to 0, which
    leaves the modulus unchanged) and inverse transformed on the ``s`` times
    coarser grid, ``s`` a power of two up to ``max_strides``; the samples then
    sit at the centres of ``s x s`` pixel blocks.

    ``demodulate=True`` (for modulus / squared-modulus responses only) lets
    a filter be evaluated as a :class:`BandGroup` instead, on its own stride,
    where two matrix products over its band cost less than the inverse FFT;
    the responses then differ from the FFT ones by at most ``band_tol`` of
    the kernel's (prior-weighted) spectral energy per axis.

    With ``demodulate=True`` each kernel also gets the FFT buffer of its own
    size (small kernels need less padding with 'reflect' and 'constant'),
    one forward FFT per distinct buffer (``split``).

    ``kernels`` are odd-sized, centred, at most as large as ``mode`` can use
    on ``shape`` (see :func:`~._support.fold_kernel`).
    """
    H, W = shape
    if demodulate and split:
        by_length = _split_by_length(kernels, shape, mode, max_strides)
        if len(by_length) > 1:
            parts = tuple(
                (np.asarray(idx), build_plan([kernels[i] for i in idx], shape, mode, max_strides,
                                             demodulate, split=False, guard=guard,
                                             band_tol=band_tol))
                for _, idx in sorted(by_length.items())
            )
            strides = [None] * len(kernels)
            for idx, part in parts:
                for i, s in zip(idx, part.strides):
                    strides[i] = s
            big = parts[-1][1]
            return FilterPlan((H, W), mode, big.rows, big.cols, tuple(strides), (), True, parts)
    pad_h = max((k.shape[0] - 1) // 2 for k in kernels)
    pad_w = max((k.shape[1] - 1) // 2 for k in kernels)
    smax_h, smax_w = max_strides
    rows = axis_layout(H, pad_h, mode, smax_h)
    cols = axis_layout(W, pad_w, mode, smax_w)
    Lh, Lw = rows.length, cols.length
    smax = (1 if Lh % smax_h else smax_h, 1 if Lw % smax_w else smax_w)

    kh2 = np.fft.fftfreq(Lh)[:, None] ** 2
    kw2 = np.fft.fftfreq(Lw)[None, :] ** 2
    # weight by a natural-image power spectrum ~ 1 / |k|^2 so that leaks near
    # DC (where images have most energy) count
    prior = 1.0 / np.maximum(kh2 + kw2, 1.0 / (Lh * Lw))
    spectra = [_spectrum(k, Lh, Lw) for k in kernels]
    found = [_best_stride(K, smax, prior, guard) for K in spectra]
    strides = tuple(s for s, _ in found)
    peaks = [p for _, p in found]

    by_stride, by_band, starts = {}, {}, {}
    for i, s in enumerate(strides):
        if demodulate:
            band, cheaper = _band_plan(np.abs(spectra[i]) ** 2 * prior, peaks[i], s, (H, W),
                                       band_tol)
            if cheaper:
                starts[i] = (peaks[i][0] + band[0][0], peaks[i][1] + band[1][0])
                by_band.setdefault((s, (band[0][1], band[1][1])), []).append(i)
                continue
        by_stride.setdefault(s, []).append(i)
    groups = [_band_group(idx, spectra, starts, s, size, (H, W))
              for (s, size), idx in sorted(by_band.items())]
    for stride, idx in sorted(by_stride.items()):
        if stride == (1, 1):
            groups.append(FilterGroup(np.asarray(idx), stride, True, None, None, None,
                                      np.stack([spectra[i] for i in idx])))
        else:
            groups.append(_coarse_group(idx, spectra, peaks, stride, Lh, Lw))
    return FilterPlan((H, W), mode, rows, cols, strides, tuple(groups), demodulate)
