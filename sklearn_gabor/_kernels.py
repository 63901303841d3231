"""Complex 2-D Gabor kernels and banks of them.

The kernels are the same, value for value, as :func:`skimage.filters.gabor_kernel`
for the same arguments (this is tested), so that features computed by
:class:`~sklearn_gabor.GaborTransformer` can be compared with scikit-image.
"""

import math
from numbers import Integral, Real

import numpy as np

__all__ = [
    "color_atoms",
    "gabor_atom",
    "gabor_bank",
    "gabor_kernel",
    "opponent_color_directions",
    "sigma_from_bandwidth",
]


def sigma_from_bandwidth(frequency, bandwidth=1.0):
    r"""Standard deviation of the Gaussian envelope for a bandwidth in octaves.

    .. math::

        \sigma = \frac{1}{\pi f} \sqrt{\frac{\ln 2}{2}}\,
                 \frac{2^b + 1}{2^b - 1}

    where ``f`` is the frequency in cycles per pixel and ``b`` the half-power
    bandwidth in octaves (the filter passes ``[f_lo, f_hi]`` with
    ``f_hi / f_lo = 2**b``).

    Parameters
    ----------
    frequency : float
        Frequency of the harmonic, in cycles per pixel (> 0).
    bandwidth : float, default=1.0
        Half-power bandwidth in octaves (> 0).

    Returns
    -------
    sigma : float
        The standard deviation, in pixels.

    Examples
    --------
    >>> from sklearn_gabor._kernels import sigma_from_bandwidth
    >>> round(sigma_from_bandwidth(0.1, 1.0), 3)
    5.622
    """
    b = float(bandwidth)
    if b > 64:
        # 2**b + 1 and 2**b - 1 round to the same double once b > 53, and
        # 2**b overflows from b = 1024: the ratio is 1 (the limit b -> inf)
        ratio = 1.0
    else:
        p = 2.0**b
        ratio = (p + 1) / (p - 1) if p > 1.0 else math.inf
    prefactor = 1.0 / np.pi * math.sqrt(math.log(2) / 2.0) * ratio
    return prefactor / float(frequency)


def _check_positive(value, name):
    if (
        not isinstance(value, Real)
        or isinstance(value, bool)
        or not np.isfinite(value)
        or value <= 0
    ):
        raise ValueError(f"{name} must be a finite number > 0; got {value!r}.")


#: largest kernel (in pixels) gabor_kernel builds; a larger one is a parameter mistake
MAX_KERNEL_PIXELS = 4096 * 4096


def gabor_kernel(
    frequency,
    theta=0.0,
    bandwidth=1.0,
    sigma_x=None,
    sigma_y=None,
    n_stds=3,
    offset=0.0,
    dtype=np.complex128,
):
    r"""Complex 2-D Gabor kernel (same values as ``skimage.filters.gabor_kernel``).

    .. math::

        g(x, y) = \frac{1}{2\pi\sigma_x\sigma_y}
            \exp\left(-\frac{1}{2}\left(\frac{x'^2}{\sigma_x^2}
                + \frac{y'^2}{\sigma_y^2}\right)\right)
            \exp\left(i\,(2\pi f x' + \varphi)\right),

    with :math:`x' = x\cos\theta + y\sin\theta` and
    :math:`y' = -x\sin\theta + y\cos\theta`; ``x`` is the column offset and
    ``y`` the row offset from the kernel centre (rows grow downwards).

    Parameters
    ----------
    frequency : float
        Frequency ``f`` of the harmonic, in cycles per pixel (> 0).
    theta : float, default=0.0
        Orientation in radians; 0 means the harmonic varies along ``x``
        (columns), i.e. the kernel responds to vertical stripes.
    bandwidth : float, default=1.0
        Half-power bandwidth in octaves, used for ``sigma_x``/``sigma_y``
        when they are not given (see :func:`sigma_from_bandwidth`).
    sigma_x, sigma_y : float, default=None
        Standard deviations of the envelope along ``x'`` and ``y'`` (before
        rotation), in pixels. ``None`` derives them from ``bandwidth``.
    n_stds : float, default=3
        Half-size of the kernel support in standard deviations: the kernel
        has shape ``(2 * y0 + 1, 2 * x0 + 1)`` with
        ``x0 = ceil(max(|n_stds sigma_x cos theta|, |n_stds sigma_y sin theta|, 1))``
        and ``y0 = ceil(max(|n_stds sigma_y cos theta|, |n_stds sigma_x sin theta|, 1))``.
    offset : float, default=0.0
        Phase offset ``phi`` of the harmonic, in radians.
    dtype : {np.complex128, np.complex64}, default=np.complex128
        Complex dtype of the result.

    Returns
    -------
    kernel : ndarray of shape (2 * y0 + 1, 2 * x0 + 1)
        The complex kernel; its centre is at ``(y0, x0)``.

    Examples
    --------
    >>> from sklearn_gabor import gabor_kernel
    >>> k = gabor_kernel(0.25, theta=0.0)
    >>> k.shape, k.dtype
    ((15, 15), dtype('complex128'))
    """
    _check_positive(frequency, "frequency")
    _check_positive(bandwidth, "bandwidth")
    _check_positive(n_stds, "n_stds")
    if np.dtype(dtype).kind != "c":
        raise ValueError(f"dtype must be a complex dtype; got {np.dtype(dtype)}.")
    if sigma_x is None:
        sigma_x = sigma_from_bandwidth(frequency, bandwidth)
    if sigma_y is None:
        sigma_y = sigma_from_bandwidth(frequency, bandwidth)
    check_envelope(frequency, theta, bandwidth, sigma_x, sigma_y, n_stds)
    return kernel_values(frequency, theta, sigma_x, sigma_y, n_stds, offset, dtype)


def kernel_values(frequency, theta, sigma_x, sigma_y, n_stds, offset, dtype=np.complex128):
    """The kernel of :func:`gabor_kernel` for checked parameters (no checks)."""
    y0, x0 = half_size(theta, sigma_x, sigma_y, n_stds)
    y, x = np.meshgrid(
        np.arange(-y0, y0 + 1), np.arange(-x0, x0 + 1), indexing="ij", sparse=True
    )
    return gabor_values(y, x, frequency, theta, sigma_x, sigma_y, offset, dtype)


def half_size(theta, sigma_x, sigma_y, n_stds):
    """Half-sizes ``(y0, x0)`` of the kernel support (shape ``(2 y0 + 1, 2 x0 + 1)``)."""
    ct = math.cos(theta)
    st = math.sin(theta)
    x0 = math.ceil(max(abs(n_stds * sigma_x * ct), abs(n_stds * sigma_y * st), 1))
    y0 = math.ceil(max(abs(n_stds * sigma_y * ct), abs(n_stds * sigma_x * st), 1))
    return y0, x0


def check_envelope(frequency, theta, bandwidth, sigma_x, sigma_y, n_stds, crop=None):
    """ValueError unless the kernel has a finite peak and at most
    ``MAX_KERNEL_PIXELS`` values to compute.

    ``crop(y0, x0)`` gives the half-sizes of the part that is computed when
    not all of the support is (default: all of it).
    """
    if not (math.isfinite(sigma_x) and math.isfinite(sigma_y)):
        raise ValueError(
            f"The Gabor envelope for frequency={frequency!r} and bandwidth={bandwidth!r} "
            f"has sigma_x={sigma_x!r}, sigma_y={sigma_y!r}: raise bandwidth or give "
            "finite sigma_x and sigma_y."
        )
    _check_positive(sigma_x, "sigma_x")
    _check_positive(sigma_y, "sigma_y")
    with np.errstate(over="ignore", divide="ignore"):
        peak = 1 / (2 * np.pi * np.float64(sigma_x) * sigma_y)
    if not np.isfinite(peak):
        raise ValueError(
            f"sigma_x={sigma_x!r} and sigma_y={sigma_y!r} are too small: the kernel's "
            "peak 1 / (2 pi sigma_x sigma_y) overflows float64."
        )
    ct, st = math.cos(theta), math.sin(theta)
    x0 = max(abs(n_stds * sigma_x * ct), abs(n_stds * sigma_y * st), 1)
    y0 = max(abs(n_stds * sigma_y * ct), abs(n_stds * sigma_x * st), 1)
    pixels = math.inf
    if max(x0, y0) < 2.0**62:
        hy, hx = math.ceil(y0), math.ceil(x0)
        if crop is not None:
            hy, hx = crop(hy, hx)
        pixels = (2 * hy + 1) * (2 * hx + 1)
    if pixels > MAX_KERNEL_PIXELS:
        size = " x ".join(
            str(2 * math.ceil(v) + 1) if v < 2.0**62 else f"{2 * v:.3g}" for v in (y0, x0)
        )
        raise ValueError(
            f"The Gabor kernel for frequency={frequency!r}, bandwidth={bandwidth!r}, "
            f"n_stds={n_stds!r} would have {size} pixels "
            f"(sigma_x={sigma_x:.4g}, sigma_y={sigma_y:.4g}), more than the "
            f"{MAX_KERNEL_PIXELS:,} allowed: raise frequency or bandwidth, or lower n_stds."
        )


def gabor_values(y, x, frequency, theta, sigma_x, sigma_y, offset, dtype=np.complex128):
    """The Gabor function at integer row offsets ``y`` and column offsets ``x``.

    ``y`` and ``x`` broadcast against each other (e.g. a column and a row);
    :func:`gabor_kernel` is this on the full grid of its support.
    """
    ct = math.cos(theta)
    st = math.sin(theta)
    rotx = x * ct + y * st
    roty = -x * st + y * ct

    g = np.empty(roty.shape, dtype=dtype)
    np.exp(
        -0.5 * (rotx**2 / sigma_x**2 + roty**2 / sigma_y**2)
        + 1j * (2 * np.pi * frequency * rotx + offset),
        out=g,
    )
    g *= 1 / (2 * np.pi * sigma_x * sigma_y)
    return g


def _as_1d_floats(values, name):
    arr = np.atleast_1d(np.asarray(values, dtype=float))
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a number or a non-empty 1-D sequence.")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite; got {values!r}.")
    return arr


def gabor_bank(
    frequencies,
    n_orientations=8,
    *,
    thetas=None,
    bandwidth=1.0,
    sigma_x=None,
    sigma_y=None,
    n_stds=3,
    offset=0.0,
    dtype=np.complex128,
):
    """A bank of Gabor kernels over frequencies x orientations.

    The bank is ordered frequency-major: kernel ``i * n_thetas + j`` has
    ``frequencies[i]`` and ``thetas[j]``.

    Parameters
    ----------
    frequencies : float or sequence of float
        Frequencies in cycles per pixel (each > 0).
    n_orientations : int, default=8
        Number of orientations ``theta_j = j * pi / n_orientations``
        (ignored when ``thetas`` is given).
    thetas : sequence of float, default=None
        Explicit orientations in radians.
    bandwidth, sigma_x, sigma_y, n_stds, offset, dtype
        As in :func:`gabor_kernel`, shared by every kernel of the bank.

    Returns
    -------
    kernels : list of ndarray
        The complex kernels (their sizes differ with frequency).
    params : list of dict
        For each kernel, the dict of its parameters: ``frequency``, ``theta``,
        ``bandwidth``, ``sigma_x``, ``sigma_y`` (the values actually used),
        ``n_stds``, ``offset``, and ``shape``.

    Examples
    --------
    >>> from sklearn_gabor import gabor_bank
    >>> kernels, params = gabor_bank([0.1, 0.2], n_orientations=4)
    >>> len(kernels), params[5]["frequency"], round(params[5]["theta"], 4)
    (8, 0.2, 0.7854)
    """
    params = bank_params(
        frequencies, n_orientations, thetas=thetas, bandwidth=bandwidth,
        sigma_x=sigma_x, sigma_y=sigma_y, n_stds=n_stds, offset=offset,
    )
    kernels = [
        gabor_kernel(p["frequency"], p["theta"], bandwidth, p["sigma_x"], p["sigma_y"],
                     n_stds, offset, dtype=dtype)
        for p in params
    ]
    return kernels, params


def bank_params(frequencies, n_orientations=8, *, thetas=None, bandwidth=1.0,
                sigma_x=None, sigma_y=None, n_stds=3, offset=0.0):
    """The parameter dicts of :func:`gabor_bank`, without building the kernels.

    ``shape`` is the shape that :func:`gabor_kernel` gives each kernel.
    """
    freqs = _as_1d_floats(frequencies, "frequencies")
    if thetas is None:
        if (
            not isinstance(n_orientations, Integral)
            or isinstance(n_orientations, bool)
            or n_orientations < 1
        ):
            raise ValueError(
                f"n_orientations must be an int >= 1; got {n_orientations!r}."
            )
        thetas = np.arange(n_orientations) * np.pi / n_orientations
    thetas = _as_1d_floats(thetas, "thetas")
    params = []
    for f in freqs:
        f = float(f)
        sx = sigma_from_bandwidth(f, bandwidth) if sigma_x is None else float(sigma_x)
        sy = sigma_from_bandwidth(f, bandwidth) if sigma_y is None else float(sigma_y)
        for t in thetas:
            t = float(t)
            y0, x0 = half_size(t, sx, sy, n_stds) if np.isfinite(sx * sy) else (0, 0)
            params.append(
                {
                    "frequency": f,
                    "theta": t,
                    "bandwidth": float(bandwidth),
                    "sigma_x": sx,
                    "sigma_y": sy,
                    "n_stds": float(n_stds),
                    "offset": float(offset),
                    "shape": (2 * y0 + 1, 2 * x0 + 1),
                }
            )
    return params


def gabor_atom(size, frequency=0.0, theta=0.0, sigma_x=1.0, sigma_y=None, phase=0.0):
    r"""Real Gabor atom sampled on a ``size`` patch, centred on the patch centre.

    .. math::

        a(x, y) = \exp\left(-\frac{1}{2}\left(\frac{x'^2}{\sigma_x^2}
            + \frac{y'^2}{\sigma_y^2}\right)\right)\cos(2\pi f x' + \varphi),

    the real part of :func:`gabor_values` (without its ``1 / (2 pi sigma_x
    sigma_y)`` factor) at the offsets ``x = j - (w - 1) / 2`` and
    ``y = i - (h - 1) / 2`` of pixel ``(i, j)`` of an ``(h, w)`` patch (half
    pixels for an even size). ``frequency=0`` gives the Gaussian blob.

    Parameters
    ----------
    size : int or (int, int)
        Patch size ``(h, w)`` in pixels.
    frequency : float, default=0.0
        Cycles per pixel (>= 0).
    theta : float, default=0.0
        Orientation in radians, as in :func:`gabor_kernel`.
    sigma_x : float, default=1.0
        Envelope standard deviation along ``x'`` in pixels (> 0).
    sigma_y : float, default=None
        Along ``y'``; ``None`` means ``sigma_x``.
    phase : float, default=0.0
        Phase ``phi`` in radians (``pi / 2`` gives the odd, sine atom).

    Returns
    -------
    atom : ndarray of shape (h, w)
        float64 values (not normalized).

    Examples
    --------
    >>> from sklearn_gabor._kernels import gabor_atom
    >>> gabor_atom(6, 0.25, sigma_x=2.0).shape
    (6, 6)
    """
    h, w = (size, size) if isinstance(size, Integral) else tuple(size)
    if frequency != 0:
        _check_positive(frequency, "frequency")
    sigma_y = sigma_x if sigma_y is None else sigma_y
    check_envelope(max(frequency, 1e-12), theta, 1.0, sigma_x, sigma_y, 1)
    y = (np.arange(h) - (h - 1) / 2.0)[:, None]
    x = (np.arange(w) - (w - 1) / 2.0)[None, :]
    g = gabor_values(y, x, frequency, theta, sigma_x, sigma_y, phase)
    return g.real * (2 * np.pi * sigma_x * sigma_y)


def opponent_color_directions(n_directions=12):
    """Unit colour vectors: luminance, opponent directions, and their mixes.

    Row 0 is the luminance ``(1, 1, 1) / sqrt(3)``; rows ``1 .. n`` are the
    ``n`` directions ``cos(a) e_rg + sin(a) e_yb`` at ``a = 2 pi k / n`` in the
    plane orthogonal to it (``e_rg = (1, -1, 0) / sqrt(2)``,
    ``e_yb = (1, 1, -2) / sqrt(6)``); rows ``n + 1 .. 2 n`` are each of them
    plus the luminance, divided by ``sqrt(2)``. ``2 n + 1`` rows in all.

    Returns
    -------
    colors : ndarray of shape (2 * n_directions + 1, 3)
    names : list of str
        'lum', 'opp{degrees}', 'lum+opp{degrees}'.
    """
    lum = np.full(3, 1 / np.sqrt(3))
    e_rg = np.array([1.0, -1.0, 0.0]) / np.sqrt(2)
    e_yb = np.array([1.0, 1.0, -2.0]) / np.sqrt(6)
    angles = 2 * np.pi * np.arange(n_directions) / n_directions
    opp = np.cos(angles)[:, None] * e_rg + np.sin(angles)[:, None] * e_yb
    colors = np.vstack([lum, opp, (opp + lum) / np.sqrt(2)])
    deg = [f"{np.degrees(a):g}" for a in angles]
    names = ["lum"] + [f"opp{d}" for d in deg] + [f"lum+opp{d}" for d in deg]
    return colors, names


def color_atoms(spatial, colors):
    """Unit-norm colour atoms: every spatial atom times every colour vector.

    Parameters
    ----------
    spatial : ndarray of shape (n_spatial, h, w)
    colors : ndarray of shape (n_colors, C)

    Returns
    -------
    atoms : ndarray of shape (n_spatial * n_colors, h * w * C)
        Atom ``s * n_colors + c`` is ``spatial[s][:, :, None] * colors[c]``
        flattened in C order (row, column, channel) and divided by its norm
        (an all-zero product stays zero).
    """
    spatial = np.asarray(spatial, dtype=np.float64)
    colors = np.asarray(colors, dtype=np.float64)
    atoms = spatial[:, None, :, :, None] * colors[None, :, None, None, :]
    atoms = atoms.reshape(spatial.shape[0] * colors.shape[0], -1)
    norms = np.linalg.norm(atoms, axis=1, keepdims=True)
    np.divide(atoms, norms, out=atoms, where=norms > 0)
    return atoms
