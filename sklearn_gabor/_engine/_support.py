"""Boundary extensions: the periodic FFT buffer of an image axis, and kernels
cut to what an image of a given size can use.

A linear convolution with ``scipy.ndimage`` boundary ``mode`` on ``[0, n)``
reads the image through its boundary extension. That extension decides both
how a circular (FFT) convolution reproduces it (:func:`axis_layout`) and how
much of a kernel can ever matter (:func:`axis_fold`):

* 'wrap': the extension has period ``n``;
* 'reflect' (``d c b a | a b c d | d c b a``): period ``2 n``;
* 'constant' (zeros): taps more than ``n - 1`` samples away only meet zeros.

So a kernel larger than the period is equivalent, exactly, to its sum
modulo the period ('wrap', 'reflect'), or to its central ``2 n - 1`` taps
('constant'): :func:`fold_kernel` and :func:`folded_gabor_kernel` compute
those, which bounds the kernels (and the FFT buffers) by the image size
whatever the frequency.
"""

from dataclasses import dataclass

import numpy as np
import scipy.fft

from .._kernels import gabor_values, half_size, kernel_values

__all__ = [
    "MODES",
    "AxisLayout",
    "axis_fold",
    "axis_layout",
    "fold_kernel",
    "folded_gabor_kernel",
    "kernel_pad",
]

MODES = ("reflect", "constant", "wrap")
# Target number of kernel values generated at once by folded_gabor_kernel.
_STRIP_PIXELS = 2**20


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


@dataclass(frozen=True)
class AxisLayout:
    """The periodic FFT buffer along one image axis.

    The image occupies positions ``[0, n)`` of a buffer of ``length``
    samples; ``index[j]`` is the image position stored at buffer position
    ``j``, or -1 for a zero. A circular convolution on the buffer with a
    kernel of half-size up to ``pad`` equals ``scipy.ndimage.convolve`` with
    ``mode`` on ``[0, n)``.
    """

    n: int
    length: int
    index: np.ndarray
    pad: int


def axis_layout(n, pad, mode, step=1):
    """FFT length and source-index map along one axis (see :class:`AxisLayout`).

    * 'wrap': ``length = n``, the kernel is wrapped (periodised) modulo ``n``.
    * 'constant': ``length >= n + pad`` zeros after the image.
    * 'reflect': either ``length = 2 n`` (the reflected extension has period
      ``2 n``) or ``length >= n + 2 pad`` with ``pad`` reflected samples on
      each side, whichever is cheaper.

    ``length`` is a multiple of ``step`` where the layout allows it (the
    coarse grids of reduced resolution need that).
    """
    if mode == "wrap":
        return AxisLayout(n, n, np.arange(n), pad)
    if mode == "constant":
        length = _fast_multiple(n + pad, step)
        index = np.full(length, -1)
        index[:n] = np.arange(n)
        return AxisLayout(n, length, index, pad)
    padded = _fast_multiple(n + 2 * pad, step)
    double = 2 * n
    cost_double = double * (1.0 if _is_fast_len(double) else 3.0)
    if cost_double <= padded:
        return AxisLayout(n, double, _reflect_index(np.arange(double), n), pad)
    index = np.zeros(padded, dtype=int)
    index[:n] = np.arange(n)
    index[n : n + pad] = _reflect_index(np.arange(n, n + pad), n)
    index[padded - pad :] = _reflect_index(np.arange(-pad, 0), n)
    return AxisLayout(n, padded, index, pad)


def axis_fold(half, n, mode):
    """Where each tap of a kernel axis lands once cut to what ``mode`` can use.

    A kernel axis of ``2 half + 1`` taps (offsets ``-half .. half``) on an
    image axis of ``n`` samples becomes ``2 q + 1`` taps; returns ``(q, to)``
    with ``to[d + half]`` the new index of offset ``d`` (-1: dropped, for
    'constant'). Offsets that the extension's period makes equal land on the
    same index, so summing into it keeps the convolution exact. The identity
    (``q = half``) when the kernel already fits.
    """
    d = np.arange(-half, half + 1)
    if mode == "constant":
        q = min(half, n - 1)
        return q, np.where(np.abs(d) <= q, d + q, -1)
    period = n if mode == "wrap" else 2 * n
    q = min(half, period // 2)
    if q == half:
        return q, d + q
    # representative of d modulo the period in [-q, period - 1 - q] ⊂ [-q, q]
    return q, np.mod(d + q, period)


def kernel_pad(shape, image_shape, mode):
    """Half-sizes ``(qy, qx)`` of a kernel of ``shape`` once cut for ``image_shape``."""
    return tuple(
        axis_fold((k - 1) // 2, n, mode)[0] for k, n in zip(shape, image_shape)
    )


def _accumulate(out, to_y, to_x, values):
    """``out[to_y, to_x] += values`` in C order, skipping dropped (-1) taps."""
    keep_y, keep_x = to_y >= 0, to_x >= 0
    np.add.at(
        out, (to_y[keep_y][:, None], to_x[keep_x][None, :]), values[np.ix_(keep_y, keep_x)]
    )


def fold_kernel(kernel, image_shape, mode):
    """``kernel`` cut to what ``mode`` can use on images of ``image_shape``.

    Convolving the result (centred, as the kernel) gives the same response
    on ``image_shape`` as convolving the kernel. Returns ``kernel`` itself
    when it fits.
    """
    (hy, hx) = ((s - 1) // 2 for s in kernel.shape)
    (qy, to_y), (qx, to_x) = (axis_fold(h, n, mode) for h, n in zip((hy, hx), image_shape))
    if (qy, qx) == (hy, hx):
        return kernel
    out = np.zeros((2 * qy + 1, 2 * qx + 1), dtype=kernel.dtype)
    _accumulate(out, to_y, to_x, kernel)
    return out


def folded_gabor_kernel(params, image_shape, mode):
    """The kernel of :func:`~sklearn_gabor.gabor_kernel` for ``params``, cut for ``image_shape``.

    Equal to ``fold_kernel(gabor_kernel(...), image_shape, mode)``, without
    building the full kernel when it is larger than the image can use: the
    values are generated in strips of rows and summed into the folded kernel
    (the same values, added in the same order), so memory stays of the order
    of the image size.
    """
    f, t = params["frequency"], params["theta"]
    sx, sy, n_stds, offset = params["sigma_x"], params["sigma_y"], params["n_stds"], params["offset"]
    hy, hx = half_size(t, sx, sy, n_stds)
    (qy, to_y), (qx, to_x) = (axis_fold(h, n, mode) for h, n in zip((hy, hx), image_shape))
    if (qy, qx) == (hy, hx):
        return kernel_values(f, t, sx, sy, n_stds, offset)
    out = np.zeros((2 * qy + 1, 2 * qx + 1), dtype=np.complex128)
    cols = np.flatnonzero(to_x >= 0)
    x = (cols - hx)[None, :]
    rows = np.flatnonzero(to_y >= 0)
    step = max(1, _STRIP_PIXELS // len(cols))
    for r0 in range(0, len(rows), step):
        r = rows[r0 : r0 + step]
        vals = gabor_values((r - hy)[:, None], x, f, t, sx, sy, offset)
        _accumulate(out, to_y[r], to_x[cols], vals)
    return out
