"""The public middle level: complex responses of many images to many kernels."""

from numbers import Integral

import numpy as np

from ._features import effective_threads
from ._plan import build_plan
from ._support import MODES, fold_kernel

__all__ = ["gabor_responses"]

# Target size (bytes) of the FFT buffer of one batch of images.
_BATCH_BYTES = 64 * 2**20


def _as_kernels(kernels):
    """A list of odd-sized complex128 2-D kernels, or a clear ValueError."""
    if isinstance(kernels, np.ndarray) and kernels.ndim == 2:
        kernels = [kernels]
    try:
        kernels = [np.asarray(k) for k in kernels]
    except TypeError:
        raise ValueError(
            f"kernels must be a 2-D array or a sequence of 2-D arrays; got {type(kernels).__name__}."
        ) from None
    if not kernels:
        raise ValueError("kernels must hold at least one kernel; got an empty sequence.")
    for i, k in enumerate(kernels):
        if k.ndim != 2 or k.dtype.kind not in "biufc" or k.shape[0] % 2 == 0 or k.shape[1] % 2 == 0:
            raise ValueError(
                "kernels must be numeric 2-D arrays of odd sizes (centred on their "
                f"middle pixel, as gabor_kernel makes them); kernel {i} has shape "
                f"{k.shape} and dtype {k.dtype}."
            )
        if not np.all(np.isfinite(k)):
            raise ValueError(f"kernels must be finite; kernel {i} holds NaN or infinity.")
    return [k.astype(np.complex128) for k in kernels]


def gabor_responses(images, kernels, *, mode="reflect", n_jobs=None):
    r"""Complex responses of images to a bank of kernels, computed by FFT.

    The response of image ``I`` to kernel ``g`` is the convolution

    .. math::

        r = I * g, \qquad r[y, x] = \sum_{u, v} g[u, v]\, I_e[y - u, x - v],

    with ``I_e`` the boundary extension of ``I`` for ``mode``, equal to
    ``ndimage.convolve(I, g.real, mode=mode) + 1j * ndimage.convolve(I, g.imag,
    mode=mode)`` (:func:`skimage.filters.gabor` computes the same for one
    image and one kernel). All images share one forward FFT per image and
    every kernel one inverse FFT; kernels larger than the images are fine
    (a kernel larger than the period of the boundary extension is summed
    modulo that period, which leaves the response unchanged).

    This is the filtering step of :class:`~sklearn_gabor.GaborTransformer`
    without the nonlinearity and pooling, at full resolution: with
    :func:`~sklearn_gabor.gabor_bank` it is the two-level API of
    :func:`skimage.filters.gabor_kernel` and :func:`skimage.filters.gabor`,
    for many images and filters at once.

    Parameters
    ----------
    images : array-like of shape (..., H, W)
        Real images; leading axes (images, channels, ...) are kept.
    kernels : ndarray of shape (kh, kw) or sequence of such arrays
        Real or complex kernels of odd sizes, centred on their middle pixel,
        e.g. the kernels of :func:`~sklearn_gabor.gabor_bank`.
    mode : {'reflect', 'constant', 'wrap'}, default='reflect'
        Boundary extension, as in :func:`scipy.ndimage.convolve`.
    n_jobs : int, default=None
        Threads of :mod:`scipy.fft`: None is 1, -1 all cores, -2 all but one.

    Returns
    -------
    responses : ndarray of shape (..., n_kernels, H, W)
        Complex responses, complex64 for float32 (or smaller) images and
        complex128 otherwise.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_gabor import gabor_bank, gabor_responses
    >>> kernels, params = gabor_bank([0.1, 0.25], n_orientations=4)
    >>> images = np.random.RandomState(0).rand(5, 3, 20, 24)  # 5 RGB images
    >>> r = gabor_responses(images, kernels, mode="wrap")
    >>> r.shape, r.dtype
    ((5, 3, 8, 20, 24), dtype('complex128'))
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}; got {mode!r}.")
    if n_jobs is not None and (not isinstance(n_jobs, Integral) or n_jobs == 0):
        raise ValueError(f"n_jobs must be None or a non-zero int; got {n_jobs!r}.")
    images = np.asarray(images)
    if images.ndim < 2 or images.dtype.kind not in "biuf" or 0 in images.shape:
        raise ValueError(
            "images must be a non-empty real array of shape (..., H, W); got shape "
            f"{images.shape} and dtype {images.dtype}."
        )
    if not np.all(np.isfinite(images)):
        raise ValueError("images must be finite; they hold NaN or infinity.")
    real = np.float32 if images.dtype.itemsize <= 4 and images.dtype.kind == "f" else np.float64
    cdtype = np.result_type(real, np.complex64)
    lead, (H, W) = images.shape[:-2], images.shape[-2:]
    flat = images.reshape(-1, 1, H, W)
    folded = [fold_kernel(k, (H, W), mode) for k in _as_kernels(kernels)]
    plan = build_plan(folded, (H, W), mode).astype(cdtype)
    out = np.empty((len(flat), len(folded), H, W), cdtype)
    batch = max(1, _BATCH_BYTES // (np.prod(plan.fft_shape) * np.dtype(cdtype).itemsize))
    workers = effective_threads(n_jobs)
    for s in range(0, len(flat), batch):
        img = flat[s : s + batch].astype(real)
        for filters, _, maps in plan.responses(img, workers):
            out[s : s + batch, filters] = maps[:, 0]
    return out.reshape(lead + (len(folded), H, W))
