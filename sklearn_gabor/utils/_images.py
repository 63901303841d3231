"""Input checks shared by the image transformers: rows of ``X`` as images."""

import math
import warnings
from numbers import Integral

import numpy as np
import scipy.sparse as sp
from sklearn.utils.validation import validate_data

from ._estimator import check_no_array_api_dispatch
from ._sklearn_compat import InvalidParameterError

__all__ = ["resolve_image_shape", "validate_images"]


def validate_images(est, X, reset):
    """``X`` as a dense, finite, numeric array of flattened images.

    Integer ``X`` other than uint8 must hold 8-bit values (0-255): any other
    range would be read as something it is not.
    """
    check_no_array_api_dispatch(est)
    if sp.issparse(X):
        raise ValueError(
            f"{type(est).__name__} does not accept sparse X: images must be a "
            f"dense array of shape (n_samples, H * W * C); got a sparse matrix "
            f"of shape {X.shape}. Use X.toarray()."
        )
    X = validate_data(est, X, reset=reset, dtype="numeric", ensure_all_finite=True)
    if X.dtype.kind in "iu" and X.dtype != np.uint8 and X.size:
        lo, hi = X.min(), X.max()
        if lo < 0 or hi > 255:
            raise ValueError(
                "Integer X is read as 8-bit images and must hold values in "
                f"[0, 255]; got values in [{lo}, {hi}]. Pass float X to use "
                "another intensity scale."
            )
    return X


def _is_int(v):
    return isinstance(v, Integral) and not isinstance(v, bool)


def resolve_image_shape(image_shape, n_features):
    """``(H, W, C)`` from the ``image_shape`` parameter and the row length.

    ``None`` reads a row of a square number of values as a square grayscale
    image, and any other row as a one-row image, with a warning.
    """
    if image_shape is None:
        r = math.isqrt(n_features)
        if r * r == n_features:
            return (r, r, 1)
        warnings.warn(
            f"image_shape=None and X has {n_features} features, not a square number: "
            f"each row is read as a one-row grayscale image (1, {n_features}). Pass "
            "image_shape=(H, W) or (H, W, C) to filter 2-D images.",
            UserWarning,
            stacklevel=3,
        )
        return (1, n_features, 1)
    shape = image_shape
    shape = tuple(shape) if not isinstance(shape, np.ndarray) else tuple(shape.tolist())
    if len(shape) not in (2, 3) or not all(_is_int(s) and s >= 1 for s in shape):
        raise InvalidParameterError(
            "image_shape must be (H, W) or (H, W, C) with positive ints; "
            f"got {image_shape!r}."
        )
    shape = tuple(int(s) for s in shape) + ((1,) if len(shape) == 2 else ())
    if math.prod(shape) != n_features:
        raise ValueError(
            f"X has {n_features} features, but image_shape={image_shape!r} "
            f"requires H * W * C = {math.prod(shape)} features per row."
        )
    return shape
