"""Rows of ``X`` to the channel-first float images that are filtered."""

from dataclasses import dataclass

import numpy as np

__all__ = ["ImagePrep"]

# Contrast normalization: (x - mean) / sqrt(var + _CN_EPS).
_CN_EPS = 1e-8
# Rows of float64 X whose largest |value| exceeds this are scaled by a power
# of two before contrast normalization (which it leaves unchanged), so that
# neither the variance (float64) nor the float32 cast can overflow.
_CN_SCALE_ABOVE = 2.0**64


@dataclass(frozen=True)
class ImagePrep:
    """How a row becomes an image: shape, contrast normalization, colour map.

    ``color`` is None (every channel as is) or the ``(C', C)`` matrix of the
    filtered channels.
    """

    image_shape: tuple
    contrast_normalization: bool
    color: np.ndarray

    def __call__(self, Xb, dtype):
        """Rows ``(B, H * W * C)`` -> float images ``(B, C', H, W)`` of ``dtype``.

        Integer rows are 8-bit images, scaled by ``1 / 255``. Raises
        ValueError for float rows that ``dtype`` cannot represent (a non-zero
        image below the smallest normal float32 would become zeros).
        """
        H, W, C = self.image_shape
        scale = None
        if Xb.dtype.kind == "f":
            scale = self._check_range(Xb, dtype)
        if Xb.dtype.kind in "iu":
            img = Xb.astype(dtype)
            img *= dtype.type(1 / 255)
        elif scale is not None:
            img = np.ldexp(Xb, -scale[:, None]).astype(dtype)
        else:
            img = Xb.astype(dtype, copy=True)
        img = img.reshape(-1, H, W, C)
        if self.contrast_normalization:
            self._normalize(img.reshape(img.shape[0], -1), scale, dtype)
        if self.color is not None:
            img = img @ self.color.T.astype(dtype)
        return np.ascontiguousarray(img.transpose(0, 3, 1, 2))

    def _check_range(self, Xb, dtype):
        """Power-of-two exponents that scale rows for contrast normalization
        (None when no row needs it); ValueError for rows lost in float32."""
        need_scale = self.contrast_normalization and Xb.dtype == np.float64
        if not (need_scale or (dtype == np.float32 and Xb.dtype == np.float64)):
            return None
        peak = np.abs(Xb).max(axis=1) if Xb.shape[1] else np.zeros(len(Xb))
        if dtype == np.float32:
            lost = (peak > 0) & (peak < np.finfo(np.float32).tiny)
            if lost.any():
                raise ValueError(
                    f"X holds images whose largest |value| is "
                    f"{peak[lost].max():.3g}, below the smallest normal float32 "
                    f"({np.finfo(np.float32).tiny:.3g}): float32 arithmetic would "
                    "turn them into zeros. Rescale X (e.g. to [0, 1]) or set "
                    "dtype='float64'."
                )
        if not need_scale or not np.any(peak > _CN_SCALE_ABOVE):
            return None
        # x -> x / 2^e exactly; 0 for rows that need no scaling
        return np.where(peak > _CN_SCALE_ABOVE, np.frexp(peak)[1], 0)

    @staticmethod
    def _normalize(flat, scale, dtype):
        """``(x - mean) / sqrt(var + 1e-8)`` per row, in place.

        For rows divided by ``2^e`` beforehand the constant becomes
        ``1e-8 / 4^e``, which gives the same result as the unscaled formula.
        """
        mean = flat.mean(axis=1, dtype=np.float64)
        var = flat.var(axis=1, dtype=np.float64)
        eps = _CN_EPS if scale is None else np.ldexp(_CN_EPS, -2 * scale)
        inv = 1.0 / np.sqrt(var + eps)
        flat -= mean[:, None].astype(dtype)
        flat *= inv[:, None].astype(dtype)
