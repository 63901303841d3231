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

Callers (pooling, the cascade, :func:`~sklearn_gabor.gabor_responses`) rely on
nothing else, so another algorithm (coarse inverse FFTs per frequency band,
separable kernels, ...) can replace this one behind the same two calls.
"""

import math
from dataclasses import dataclass, replace

import numpy as np
import scipy.fft

from ._support import axis_layout

__all__ = ["FilterGroup", "FilterPlan", "build_plan"]

# Fraction of a kernel's spectral energy allowed outside the reduced band for
# the reduced-resolution path; see build_plan.
SPECTRAL_LEAK_TOL = 1e-3
_GUARD = 2
# Target size (bytes) of the complex temporaries of one filter chunk.
_CHUNK_BYTES = 16 * 2**20


def _window(center, m, length):
    """Spectral bins ``center + q`` (mod ``length``), ``q`` in FFT order."""
    q = np.rint(np.fft.fftfreq(m) * m).astype(int)
    return np.mod(center + q, length), q


@dataclass(frozen=True)
class FilterGroup:
    """Filters computed on the same grid, ``stride`` times coarser than the image.

    ``spectra[i]`` is the kernel spectrum of filter ``filters[i]`` on the
    full FFT grid (``full``), or its window ``(win_h[i], win_w[i])`` of the
    coarse grid's size, demodulated and phase shifted to the block centres.
    """

    filters: np.ndarray
    stride: tuple
    full: bool
    win_h: np.ndarray
    win_w: np.ndarray
    spectra: np.ndarray


@dataclass(frozen=True)
class FilterPlan:
    """A bank prepared for images of ``shape`` with boundary ``mode``."""

    shape: tuple
    mode: str
    rows: object  # AxisLayout
    cols: object  # AxisLayout
    strides: tuple
    groups: tuple

    @property
    def fft_shape(self):
        return self.rows.length, self.cols.length

    def astype(self, dtype):
        """The same plan with spectra of complex ``dtype``."""
        groups = tuple(replace(g, spectra=g.spectra.astype(dtype)) for g in self.groups)
        return replace(self, groups=groups)

    def responses(self, img, workers=None):
        """Yield ``(filters, stride, maps)`` for channel-first images ``(B, C, H, W)``.

        ``workers`` is passed to :mod:`scipy.fft` (a positive thread count or
        None). The spectra's dtype (see :meth:`astype`) sets the precision.
        """
        B, C = img.shape[:2]
        H, W = self.shape
        index_h, index_w = self.rows.index, self.cols.index
        buf = img[:, :, np.maximum(index_h, 0)[:, None], np.maximum(index_w, 0)[None, :]]
        if self.mode == "constant":
            buf[:, :, index_h < 0, :] = 0
            buf[:, :, :, index_w < 0] = 0
        spec = scipy.fft.fft2(buf, axes=(-2, -1), workers=workers)
        del buf
        itemsize = np.dtype(spec.dtype).itemsize
        for group in self.groups:
            sh, sw = group.stride
            kern = group.spectra
            per_filter = B * C * kern.shape[1] * kern.shape[2] * itemsize
            chunk = max(1, _CHUNK_BYTES // per_filter)
            for f0 in range(0, len(group.filters), chunk):
                f1 = min(f0 + chunk, len(group.filters))
                if group.full:
                    resp = spec[:, :, None] * kern[None, None, f0:f1]
                else:
                    wh = group.win_h[f0:f1, :, None]
                    ww = group.win_w[f0:f1, None, :]
                    resp = spec[:, :, wh, ww]
                    resp *= kern[None, None, f0:f1]
                resp = scipy.fft.ifft2(resp, axes=(-2, -1), overwrite_x=True, workers=workers)
                yield group.filters[f0:f1], (sh, sw), resp[..., : H // sh, : W // sw]


def _spectrum(kernel, Lh, Lw):
    """FFT of ``kernel`` centred at the origin of an ``Lh x Lw`` periodic grid."""
    kh, kw = kernel.shape
    buf = np.zeros((Lh, Lw), dtype=np.complex128)
    rows = np.mod(np.arange(kh) - (kh - 1) // 2, Lh)
    cols = np.mod(np.arange(kw) - (kw - 1) // 2, Lw)
    np.add.at(buf, (rows[:, None], cols[None, :]), kernel)
    return scipy.fft.fft2(buf)


def _best_stride(K, smax, prior):
    """Coarsest power-of-two ``(sh, sw) <= smax`` whose band holds the spectrum.

    The band (around the spectral peak) must fit in the central half of the
    coarse spectrum, so that ``|r|^2`` (twice as wide) is not aliased, with
    at most SPECTRAL_LEAK_TOL of the energy (weighted by ``prior``) outside.
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
            wh, _ = _window(ch, max(1, Lh // (_GUARD * sh)), Lh)
            ww, _ = _window(cw, max(1, Lw // (_GUARD * sw)), Lw)
            inside = power[np.ix_(wh, ww)].sum()
            if total - inside <= SPECTRAL_LEAK_TOL * total:
                best = (sh, sw)
    return best, (ch, cw)


def _coarse_group(idx, spectra, peaks, stride, Lh, Lw):
    """Windowed, demodulated spectra of the filters ``idx`` for one stride."""
    sh, sw = stride
    Mh, Mw = Lh // sh, Lw // sw
    win_h, win_w, kws = [], [], []
    for i in idx:
        ch, cw = peaks[i]
        wh, qh = _window(ch, Mh, Lh)
        ww, qw = _window(cw, Mw, Lw)
        # sample at block centres (s - 1) / 2 and fold in the ifft scaling
        ph = np.exp(2j * np.pi * qh * ((sh - 1) / 2) / Lh)
        pw = np.exp(2j * np.pi * qw * ((sw - 1) / 2) / Lw)
        scale = (Mh * Mw) / (Lh * Lw)
        kws.append(spectra[i][np.ix_(wh, ww)] * (ph[:, None] * pw[None, :]) * scale)
        win_h.append(wh)
        win_w.append(ww)
    return FilterGroup(np.asarray(idx), stride, False, np.stack(win_h), np.stack(win_w),
                       np.stack(kws))


def build_plan(kernels, shape, mode, max_strides=(1, 1)):
    """Per-filter FFT layout: buffer maps, filter groups and spectral windows.

    Each filter is applied as ``ifft(X_hat[window] * K_hat[window])``. At
    full resolution (``max_strides=(1, 1)``) the window is the whole
    spectrum. Otherwise (for modulus / squared-modulus responses only) a
    filter whose spectrum fits, up to a fraction SPECTRAL_LEAK_TOL of its
    energy weighted by a natural-image spectrum ``1 / |k|^2``, in a band of
    ``L / s`` bins around its peak is demodulated (the peak moved to 0, which
    leaves the modulus unchanged) and inverse transformed on the ``s`` times
    coarser grid, ``s`` a power of two up to ``max_strides``; the samples then
    sit at the centres of ``s x s`` pixel blocks.

    ``kernels`` are odd-sized, centred, at most as large as ``mode`` can use
    on ``shape`` (see :func:`~._support.fold_kernel`).
    """
    H, W = shape
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
    found = [_best_stride(K, smax, prior) for K in spectra]
    strides = tuple(s for s, _ in found)
    peaks = [p for _, p in found]

    by_stride = {}
    for i, s in enumerate(strides):
        by_stride.setdefault(s, []).append(i)
    groups = []
    for stride, idx in sorted(by_stride.items()):
        if stride == (1, 1):
            groups.append(FilterGroup(np.asarray(idx), stride, True, None, None,
                                      np.stack([spectra[i] for i in idx])))
        else:
            groups.append(_coarse_group(idx, spectra, peaks, stride, Lh, Lw))
    return FilterPlan((H, W), mode, rows, cols, strides, tuple(groups))
