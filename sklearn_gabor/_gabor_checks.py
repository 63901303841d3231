"""Parameter checks of :class:`~sklearn_gabor.GaborTransformer`, in one place.

``GaborTransformer._parameter_constraints`` checks each parameter's type and
range (scikit-learn's ``InvalidParameterError``). What those constraints cannot
express is checked here, once, at ``fit``:

* the elements of sequence parameters (``image_shape``, ``frequencies``,
  ``thetas``, ``pool_grid``, ``pool_stats``): ``InvalidParameterError`` that
  names the parameter;
* the rules that involve several parameters or the data (``image_shape``
  against ``n_features``, ``color`` against the channels, ``flip_invariant``
  against the bank and the cells, ``order`` with ``first_order``, the kernel
  envelopes, ``cascade_frequencies`` against the bank, the size of the bank): ``ValueError`` naming every parameter
  involved.

The deeper layers (the filtering engine) trust what comes out of here.
"""

from dataclasses import dataclass
from numbers import Integral

import numpy as np

from ._engine import (
    MAX_BANK_BYTES,
    FeatureLayout,
    bank_nbytes,
    cell_bounds,
    mirror_kernels,
)
from ._engine._support import kernel_pad
from ._kernels import bank_params, check_envelope
from .utils._images import resolve_image_shape
from .utils._sklearn_compat import InvalidParameterError

__all__ = ["FittedConfig", "resolve_config"]

STATS = ("mean", "max", "std")
# Luminance weights (ITU-R BT.709, as skimage.color.rgb2gray).
_GRAY_WEIGHTS = np.array([0.2125, 0.7154, 0.0721])
# Rows: luminance, red-green, yellow-blue.
_OPPONENT = np.array(
    [[1 / 3, 1 / 3, 1 / 3], [1.0, -1.0, 0.0], [0.5, 0.5, -1.0]],
)


@dataclass(frozen=True)
class FittedConfig:
    """Every parameter of a fitted transformer, resolved once by ``fit``.

    ``transform`` reads only this (and the engine built from it), so a
    parameter changed with ``set_params`` after ``fit`` has no effect until
    the next ``fit``.
    """

    image_shape: tuple  # (H, W, C)
    params: list  # kernel parameter dicts (bank order)
    grid: tuple
    stats: tuple
    color: np.ndarray  # (C', C) or None
    channels: list
    orders: tuple
    cascade: np.ndarray  # kernels of the second order (boolean mask), or None for all
    mirror: np.ndarray  # kernel mirror map, or None
    dtype: object  # np.dtype, or None (float64 in -> float64 out)
    batch_size: int
    n_jobs: object

    def out_dtype(self, in_dtype):
        """The output dtype for input of ``in_dtype``."""
        if self.dtype is not None:
            return self.dtype
        return np.dtype(np.float64) if in_dtype == np.float64 else np.dtype(np.float32)


def _invalid(name, what, value):
    return InvalidParameterError(f"{name} must be {what}; got {value!r}.")


def _float_vector(value, name, what):
    """A non-empty 1-D float array of finite values, or InvalidParameterError."""
    try:
        arr = np.atleast_1d(np.asarray(value, dtype=float))
    except (TypeError, ValueError):
        raise _invalid(name, what, value) from None
    if arr.ndim != 1 or arr.size == 0 or not np.all(np.isfinite(arr)):
        raise _invalid(name, what, value)
    return arr


def _is_int(v):
    return isinstance(v, Integral) and not isinstance(v, bool)


def _pooling(est, H, W):
    grid = est.pool_grid
    try:
        ok = len(grid) == 2 and all(
            (_is_int(g) or (isinstance(g, float) and g.is_integer())) and g >= 1 for g in grid
        )
    except TypeError:
        ok = False
    if not ok:
        raise _invalid("pool_grid", "a pair of ints >= 1", est.pool_grid)
    stats = est.pool_stats
    stats = (stats,) if isinstance(stats, str) else tuple(stats)
    if not stats or any(s not in STATS for s in stats) or len(set(stats)) != len(stats):
        raise _invalid(
            "pool_stats", f"a non-empty sequence of distinct values from {STATS}", est.pool_stats
        )
    return (min(int(grid[0]), H), min(int(grid[1]), W)), stats


def _color(est, C):
    if est.color == "per_channel":
        return None, [f"ch{c}" for c in range(C)]
    if est.color == "gray":
        w = _GRAY_WEIGHTS if C == 3 else np.full(C, 1.0 / C)
        return w[None, :], ["gray"]
    if C != 3:
        raise ValueError(
            "color='opponent' needs 3 (RGB) channels, but image_shape="
            f"{est.image_shape!r} gives C={C}."
        )
    return _OPPONENT, ["lum", "rg", "yb"]


def _bank(est):
    freqs = _float_vector(est.frequencies, "frequencies",
                          "a number or a non-empty 1-D sequence in (0, 0.5]")
    if not np.all((freqs > 0) & (freqs <= 0.5)):
        raise InvalidParameterError(
            "frequencies must lie in (0, 0.5] cycles per pixel (0.5 is the Nyquist "
            f"frequency); got {est.frequencies!r}."
        )
    thetas = None
    if est.thetas is not None:
        thetas = _float_vector(est.thetas, "thetas",
                               "a non-empty 1-D sequence of finite angles in radians")
    return bank_params(freqs, est.n_orientations, thetas=thetas, bandwidth=est.bandwidth,
                       sigma_x=est.sigma_x, sigma_y=est.sigma_y, n_stds=est.n_stds,
                       offset=est.offset)


def _check_envelopes(est, params, image_shape):
    """Every kernel has a finite peak, a finite support and at most
    ``MAX_KERNEL_PIXELS`` values to compute: all of it for 'reflect' and
    'wrap' (folded), the part that can meet the image for 'constant'."""
    crop = None
    if est.mode == "constant":
        def crop(hy, hx):
            return kernel_pad((2 * hy + 1, 2 * hx + 1), image_shape[:2], "constant")
    for p in params:
        check_envelope(p["frequency"], p["theta"], est.bandwidth, p["sigma_x"], p["sigma_y"],
                       p["n_stds"], crop)


def _check_flip(est, W, gw, params):
    """The kernel mirror map, with the rules ``flip_invariant=True`` needs."""
    if est.nonlinearity not in ("modulus", "squared"):
        raise ValueError(
            "flip_invariant=True needs nonlinearity='modulus' or 'squared' "
            "(for signed responses the mirror of orientation 0, its complex "
            "conjugate, and the phase offset break the mirror identity); got "
            f"nonlinearity={est.nonlinearity!r}."
        )
    bounds_w = cell_bounds(W, gw)
    if not np.array_equal(W - bounds_w[::-1], bounds_w):
        raise ValueError(
            "flip_invariant=True needs pooling cells that are mirror images "
            f"across the image's vertical axis, i.e. an image width W={W} "
            f"divisible by the number of cell columns; got pool_grid="
            f"{est.pool_grid!r} ({gw} columns of cells, boundaries "
            f"{bounds_w.tolist()})."
        )
    mirror, lonely = mirror_kernels(params)
    if mirror is None:
        shown = est.thetas if est.thetas is not None else "the default"
        raise ValueError(
            "flip_invariant=True needs orientations closed under the left-"
            "right mirror theta -> pi - theta (mod pi, with as many copies "
            f"of each): thetas={shown!r} has no mirror for theta="
            f"{lonely:.6g} (pi - theta = {np.pi - lonely:.6g})."
        )
    return mirror


def _orders(est, params):
    if est.order == 1 and not est.first_order:
        raise ValueError(
            "order=1 with first_order=False leaves no features: first_order=False "
            "keeps only the second-order (cascade) features of order=2."
        )
    orders = (1, 2) if est.order == 2 else (1,)
    if not est.first_order:
        orders = (2,)
        if len({p["frequency"] for p in params}) < 2:
            raise ValueError(
                "order=2 with first_order=False needs at least two distinct frequencies "
                f"(a second-order path goes to a lower one); got frequencies="
                f"{est.frequencies!r}."
            )
    return orders


def _cascade(est, params):
    """The kernels of the second order, as a boolean mask (None: all of them)."""
    if est.cascade_frequencies is None:
        return None
    if est.order != 2:
        raise ValueError(
            "cascade_frequencies chooses the frequencies of the second order, so it "
            f"needs order=2; got order={est.order!r} with cascade_frequencies="
            f"{est.cascade_frequencies!r}. Leave it None or set order=2."
        )
    chosen = _float_vector(est.cascade_frequencies, "cascade_frequencies",
                           "None or a non-empty 1-D sequence of the bank's frequencies")
    kfreq = np.array([p["frequency"] for p in params])
    bank = np.unique(kfreq)
    for f in chosen:
        if not np.any(np.isclose(bank, f, rtol=1e-6, atol=0.0)):
            raise ValueError(
                f"cascade_frequencies must be frequencies of the bank {bank.tolist()} "
                f"(frequencies={est.frequencies!r}); {float(f)!r} is not one of them."
            )
    mask = np.any(np.isclose(kfreq[:, None], chosen[None, :], rtol=1e-6, atol=0.0), axis=1)
    if np.unique(kfreq[mask]).size < 2:
        raise ValueError(
            "cascade_frequencies needs at least two distinct frequencies (a second-order "
            f"path goes to a lower one); got cascade_frequencies={est.cascade_frequencies!r}."
        )
    return mask


def _check_bank_size(est, params, image_shape, orders, channels, grid, stats, cascade):
    layout = FeatureLayout.build([p["frequency"] for p in params], ("",), channels, grid,
                                 stats, orders, cascade)
    nbytes = bank_nbytes(params, image_shape, est.mode, layout)
    if nbytes > MAX_BANK_BYTES:
        raise ValueError(
            f"The filter bank would need {nbytes / 2**30:.1f} GiB for its kernels and "
            f"their spectra ({len(params)} kernels on {image_shape[0]} x {image_shape[1]} "
            f"images, order={est.order}), more than the {MAX_BANK_BYTES / 2**30:.0f} GiB "
            "allowed: use fewer frequencies or n_orientations, smaller images, or order=1."
        )


def resolve_config(est, n_features):
    """Check ``est``'s parameters against each other and ``n_features``; the
    :class:`FittedConfig` that ``fit`` stores."""
    H, W, C = resolve_image_shape(est.image_shape, n_features)
    grid, stats = _pooling(est, H, W)
    color, channels = _color(est, C)
    params = _bank(est)
    _check_envelopes(est, params, (H, W, C))
    orders = _orders(est, params)
    cascade = _cascade(est, params)
    mirror = _check_flip(est, W, grid[1], params) if est.flip_invariant else None
    _check_bank_size(est, params, (H, W, C), orders, channels, grid, stats, cascade)
    return FittedConfig(
        (H, W, C), params, grid, stats, color, channels, orders, cascade, mirror,
        None if est.dtype is None else np.dtype(est.dtype), est.batch_size, est.n_jobs,
    )
