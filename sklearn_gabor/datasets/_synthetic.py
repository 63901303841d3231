"""Small synthetic image datasets for tests and quick examples."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils import Bunch, check_random_state

__all__ = ["make_gratings"]


def _check_int(name, value, low):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}")
    return int(value)


def make_gratings(
    n_samples=100,
    image_shape=(16, 16),
    n_classes=4,
    noise=0.1,
    random_state=None,
    *,
    frequency_range=(0.08, 0.25),
    return_X_y=True,
):
    """Generate oriented sine gratings, one orientation per class.

    Class ``k`` holds gratings at orientation ``theta_k = k * pi / n_classes``
    (evenly spaced in ``[0, pi)``); each sample draws its own spatial
    frequency (uniform in ``frequency_range``, in cycles per pixel) and phase
    (uniform in ``[0, 2 pi)``), so only the orientation tells the classes
    apart — the kind of problem Gabor features solve and raw pixels do not.
    The pixel at row ``i``, column ``j`` is::

        0.5 + 0.5 * sin(2 pi f (j cos(theta) + i sin(theta)) + phase) + noise

    clipped to ``[0, 1]``, where ``noise`` is Gaussian with standard deviation
    ``noise``, drawn independently for every pixel (and channel).

    Parameters
    ----------
    n_samples : int, default=100
        Number of images. Classes are balanced (sizes differ by at most one)
        and shuffled.

    image_shape : tuple of int, default=(16, 16)
        ``(height, width)`` for grey images or ``(height, width, channels)``;
        with channels the grating is the same in every channel and only the
        noise differs.

    n_classes : int, default=4
        Number of orientations (classes), at least 2.

    noise : float, default=0.1
        Standard deviation of the additive Gaussian pixel noise (>= 0).

    random_state : int, RandomState instance or None, default=None
        Determines the labels, frequencies, phases and noise. Pass an int for
        reproducible output.

    frequency_range : tuple of float, default=(0.08, 0.25)
        Range ``(low, high)`` of the spatial frequencies in cycles per pixel,
        ``0 < low <= high <= 0.5``.

    return_X_y : bool, default=True
        If True (the convention of scikit-learn's ``make_*`` generators),
        return ``(X, y)``; if False, a :class:`~sklearn.utils.Bunch` that also
        holds the images and the parameters each one was drawn with.

    Returns
    -------
    X : ndarray of shape (n_samples, prod(image_shape)), dtype float64
        The images, flattened in row-major (H, W[, C]) order, values in
        ``[0, 1]``.

    y : ndarray of shape (n_samples,), dtype int64
        The class (orientation index) of each image.

    data : :class:`~sklearn.utils.Bunch`, if ``return_X_y`` is False
        Dictionary-like object with attributes:

        data : ndarray of shape (n_samples, prod(image_shape))
            ``X`` above.
        target : ndarray of shape (n_samples,)
            ``y`` above.
        images : ndarray of shape (n_samples, height, width[, channels])
            The same images, not flattened (a view of ``data``).
        target_names : ndarray of str
            The orientation of each class, e.g. ``"45°"``.
        theta : ndarray of shape (n_samples,)
            Orientation of each grating, in radians.
        frequency : ndarray of shape (n_samples,)
            Spatial frequency of each grating, in cycles per pixel.
        phase : ndarray of shape (n_samples,)
            Phase of each grating, in radians.

    Examples
    --------
    >>> from sklearn_gabor.datasets import make_gratings
    >>> X, y = make_gratings(n_samples=6, image_shape=(8, 8), n_classes=3,
    ...                      random_state=0)
    >>> X.shape, y.shape
    ((6, 64), (6,))
    >>> sorted(y.tolist())
    [0, 0, 1, 1, 2, 2]
    >>> gratings = make_gratings(n_samples=6, image_shape=(8, 8), n_classes=3,
    ...                          random_state=0, return_X_y=False)
    >>> gratings.images.shape, gratings.target_names.tolist()
    ((6, 8, 8), ['0°', '60°', '120°'])
    """
    n_samples = _check_int("n_samples", n_samples, 1)
    n_classes = _check_int("n_classes", n_classes, 2)
    try:
        shape = tuple(image_shape)
    except TypeError:
        raise TypeError(
            f"image_shape must be a tuple (height, width) or (height, width, "
            f"channels), got {image_shape!r}"
        ) from None
    if len(shape) not in (2, 3):
        raise ValueError(
            f"image_shape must have 2 or 3 entries (height, width[, channels]), "
            f"got {image_shape!r}"
        )
    shape = tuple(_check_int("image_shape entries", s, 1) for s in shape)
    if isinstance(noise, (bool, np.bool_)) or not isinstance(noise, Real):
        raise TypeError(f"noise must be a real number, got {noise!r}")
    if not np.isfinite(noise) or noise < 0:
        raise ValueError(f"noise must be a finite number >= 0, got {noise}")
    try:
        f_low, f_high = (float(f) for f in frequency_range)
    except (TypeError, ValueError):
        raise ValueError(
            f"frequency_range must be a pair (low, high), got {frequency_range!r}"
        ) from None
    if not 0 < f_low <= f_high <= 0.5:
        raise ValueError(
            "frequency_range must satisfy 0 < low <= high <= 0.5 (cycles per "
            f"pixel), got {frequency_range!r}"
        )

    rng = check_random_state(random_state)
    y = np.arange(n_samples, dtype=np.int64) % n_classes
    rng.shuffle(y)
    theta = y * (np.pi / n_classes)
    freq = rng.uniform(f_low, f_high, size=n_samples)
    phase = rng.uniform(0.0, 2 * np.pi, size=n_samples)

    height, width = shape[:2]
    rows = np.arange(height, dtype=np.float64)[:, None]
    cols = np.arange(width, dtype=np.float64)[None, :]
    # (n, H, W): projection of each pixel on the grating direction
    proj = (
        np.cos(theta)[:, None, None] * cols[None]
        + np.sin(theta)[:, None, None] * rows[None]
    )
    images = 0.5 + 0.5 * np.sin(
        2 * np.pi * freq[:, None, None] * proj + phase[:, None, None]
    )
    if len(shape) == 3:
        images = np.repeat(images[..., None], shape[2], axis=-1)
    if noise > 0:
        images += rng.normal(scale=noise, size=images.shape)
    np.clip(images, 0.0, 1.0, out=images)
    X = images.reshape(n_samples, -1)
    if return_X_y:
        return X, y
    names = np.asarray([f"{180 * k / n_classes:g}°" for k in range(n_classes)])
    return Bunch(
        data=X,
        target=y,
        images=images,
        target_names=names,
        theta=theta,
        frequency=freq,
        phase=phase,
    )
