"""Features equal to a saved reference on every option of GaborTransformer.

``tests/data/reference_features.npz`` holds the features of 86 configurations
(every nonlinearity x mode x resolution, colours, pooling statistics,
compressions, contrast normalization, the cascade, flip invariance, dtypes,
explicit orientations and envelopes, threads and batches) computed by the
code before the filtering engine was separated from the estimator
(``tests/data/make_reference_features.py`` says how). A rewrite of the
filtering code must reproduce them bit for bit, except where a configuration
is listed in ``CHANGED`` with the tolerance it is held to and why.
"""

import json
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from sklearn_gabor import GaborTransformer

DATA = Path(__file__).parent / "data" / "reference_features.npz"
REF = np.load(DATA)
CONFIGS = json.loads(str(REF["params"]))

# name -> (tolerance relative to the largest feature, reason). Kernels larger
# than what the image can use are now cut to it (folded modulo the period of
# 'reflect'/'wrap', cropped to 2 n - 1 taps for 'constant'), which is exact but
# can change the FFT buffer length, so these differ by rounding; where the
# length changes under resolution='auto' the coarse spectral windows move too,
# within the accuracy of 'auto' (1e-2 in norm is what tests require of it).
_CROPPED = "constant-mode kernels cropped to 2 n - 1 taps: FFT length changed"
CHANGED = {
    "default_rgb": (2e-6, ("0.05 kernel (69 taps) folded modulo 2 W = 26: the "
                           "reflect buffer is now 40 (n + 2 pad) instead of 26 (2 n)")),
}
for _nl in ("modulus", "real", "imag", "rectified", "squared"):
    for _res in ("auto", "full"):
        CHANGED[f"{_nl}_constant_{_res}_small"] = (1e-14, _CROPPED + " (float64 rounding)")
        CHANGED[f"{_nl}_constant_{_res}_rgb"] = (2e-6, _CROPPED + " (float32 rounding)")
    if _nl in ("modulus", "squared"):
        CHANGED[f"{_nl}_constant_auto_rgb"] = (
            1e-3, _CROPPED + " from 36 to 32, so the coarse windows of 'auto' moved")

# resolution='auto' (modulus or squared modulus, mean pooling) now evaluates a
# filter from the spectral bins of its band (all but 1e-6 of its weighted
# energy per axis) by matrix products, on a buffer of its own size, and pools
# by matrix products: within the accuracy 'auto' promises (1e-2; its agreement
# with 'full' is tested in test_gabor.py).
_BAND = ("resolution='auto' modulus: band groups, buffers per kernel size, "
         "means by matrix products")
for _name, (_, _p) in CONFIGS.items():
    _stats = _p.get("pool_stats") or ["mean"]
    if (_p.get("resolution", "auto") == "auto"
            and _p.get("nonlinearity", "modulus") in ("modulus", "squared")
            and list(np.atleast_1d(_stats)) == ["mean"]):
        CHANGED[_name] = (1e-2, _BAND)


_F32_ULPS = 8 * np.finfo(np.float32).eps


def _params(params):
    return dict(params)


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_features_equal_saved_reference(name):
    image_set, params = CONFIGS[name]
    X = REF[f"images/{image_set}"]
    want = REF[f"features/{name}"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = GaborTransformer(**_params(params)).fit(X).transform(X)
    assert got.dtype == want.dtype and got.shape == want.shape
    if name in CHANGED:
        rtol, _ = CHANGED[name]
        np.testing.assert_allclose(got, want, rtol=0, atol=rtol * np.abs(want).max())
    elif want.dtype == np.float32:
        # float32 matrix products (the colour mix) round differently with the
        # BLAS kernel and thread count of the machine: a few ulps of the largest
        np.testing.assert_allclose(got, want, rtol=0, atol=_F32_ULPS * np.abs(want).max())
    else:
        np.testing.assert_array_equal(got, want)


def test_reference_covers_every_option():
    """The saved configurations exercise every value of every option."""
    sys.path.insert(0, str(DATA.parent))
    try:
        from make_reference_features import CONFIGS as script_configs
    finally:
        sys.path.pop(0)
    assert json.loads(json.dumps(script_configs)) == CONFIGS
    seen = {}
    for _, params in CONFIGS.values():
        for key, value in params.items():
            seen.setdefault(key, set()).add(json.dumps(value))
    for key, values in {
        "nonlinearity": ["modulus", "real", "imag", "rectified", "squared"],
        "mode": ["reflect", "constant", "wrap"],
        "color": ["per_channel", "gray", "opponent"],
        "compression": ["log1p", "sqrt"],
        "resolution": ["auto", "full"],
        "dtype": ["float64", None],
    }.items():
        assert {json.dumps(v) for v in values} <= seen[key], key
    for key in ("order", "flip_invariant", "contrast_normalization", "thetas", "sigma_x",
                "sigma_y", "offset", "bandwidth", "n_stds", "n_jobs", "batch_size",
                "pool_stats", "pool_grid"):
        assert key in seen, key
