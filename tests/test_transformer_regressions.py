"""GaborTransformer: fitted state, the cascade without its first order, bounds
and parameter errors (one test per defect, each against an independent
reference or an explicit expected error)."""

import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from conftest import reference_response
from sklearn.base import clone

import sklearn_gabor._gabor as gabor_module
from sklearn_gabor import GaborTransformer
from sklearn_gabor.utils._sklearn_compat import InvalidParameterError

RNG = np.random.RandomState(0)
X8 = RNG.rand(3, 64)

# ------------------------------------------------ transform reads only fit
# a valid value, different from the one fitted, for every parameter
CHANGED = {
    "frequencies": (0.2,), "n_orientations": 3, "thetas": (0.3,), "bandwidth": 2.0,
    "sigma_x": 2.0, "sigma_y": 3.0, "n_stds": 2.0, "offset": 0.5, "nonlinearity": "real",
    "mode": "wrap", "color": "gray", "pool_grid": (1, 1), "pool_stats": ("max",),
    "compression": "log1p", "contrast_normalization": True, "resolution": "full",
    "order": 1, "first_order": False, "cascade_frequencies": (0.1, 0.3),
    "flip_invariant": False, "dtype": "float64",
    "batch_size": 1, "n_jobs": 2, "image_shape": (64, 1),
}


def test_every_parameter_is_covered():
    assert set(CHANGED) == set(GaborTransformer().get_params())


@pytest.mark.parametrize("name", sorted(CHANGED))
def test_set_params_after_fit_has_no_effect_until_refit(name):
    """A parameter changed after fit leaves transform's output (values, dtype,
    columns, names) exactly as fitted; the next fit applies it."""
    gt = GaborTransformer((8, 8), frequencies=(0.1, 0.3), n_orientations=2, order=2,
                          flip_invariant=True, pool_grid=(2, 2), batch_size=2).fit(X8)
    before, names = gt.transform(X8), gt.get_feature_names_out()
    gt.set_params(**{name: CHANGED[name]})
    after = gt.transform(X8)
    assert after.dtype == before.dtype
    np.testing.assert_array_equal(after, before)
    np.testing.assert_array_equal(gt.get_feature_names_out(), names)
    if name in ("flip_invariant", "first_order", "pool_stats", "order"):
        # the new value is used by the next fit (and equals a fresh estimator's)
        fresh = clone(gt).fit(X8).transform(X8)
        np.testing.assert_array_equal(gt.fit(X8).transform(X8), fresh)
        assert fresh.shape != before.shape or not np.array_equal(fresh, before)


def test_modulus_plan_never_applied_with_real():
    """set_params(nonlinearity='real') after fitting 'modulus' gives the modulus
    features, equal to an ndimage reference (not a mix of both settings)."""
    gt = GaborTransformer((8, 8), frequencies=(0.25,), thetas=(0.0,), pool_grid=(1, 1),
                          dtype="float64").fit(X8)
    gt.set_params(nonlinearity="real")
    want = [np.abs(reference_response(x.reshape(8, 8), gt.kernels_[0], "reflect")).mean()
            for x in X8]
    np.testing.assert_allclose(gt.transform(X8)[:, 0], want, rtol=1e-2)


# ------------------------------------------ the cascade without first order
def test_second_order_only_equals_ndimage_reference():
    H, W = 12, 10
    X = RNG.rand(2, H * W)
    kw = {"frequencies": (0.15, 0.3), "n_orientations": 2, "order": 2, "pool_grid": (2, 2),
          "resolution": "full", "dtype": "float64", "mode": "wrap"}
    only2 = GaborTransformer((H, W), first_order=False, **kw).fit(X)
    F = only2.transform(X)
    k = only2.kernels_
    assert only2.cascade_pairs_ == [(2, 0), (2, 1), (3, 0), (3, 1)]
    assert F.shape == (2, 4 * 4)
    names = only2.get_feature_names_out()
    assert names[0] == "f0.3_theta0_f0.15_theta0_ch0_cell0-0_mean" and len(names) == 16
    for n in range(2):
        for p, (i, j) in enumerate(only2.cascade_pairs_):
            u = np.abs(reference_response(X[n].reshape(H, W), k[i], "wrap"))
            v = np.abs(reference_response(u, k[j], "wrap"))
            cells = v.reshape(2, 6, 2, 5).mean(axis=(1, 3)).ravel()
            np.testing.assert_allclose(F[n, 4 * p : 4 * p + 4], cells, atol=1e-12)
    # the second-order block of order=2, bit for bit, and its names
    both = GaborTransformer((H, W), **kw).fit(X)
    np.testing.assert_array_equal(both.transform(X)[:, -16:], F)
    np.testing.assert_array_equal(both.get_feature_names_out()[-16:], names)


@pytest.mark.parametrize("mode", ["wrap", "reflect", "constant"])
@pytest.mark.parametrize("resolution", ["auto", "full"])
def test_second_order_only_with_flip(mode, resolution):
    """first_order=False drops the first-order block of order=2; the rest is
    the same (bit for bit with 'wrap', whose FFT buffer is the image; to
    float32 rounding with 'full', where the first-layer buffer is sized for
    fewer kernels; to the accuracy of 'auto' otherwise)."""
    X = RNG.rand(3, 16 * 16 * 3)
    kw = {"frequencies": (0.1, 0.3), "n_orientations": 4, "order": 2, "flip_invariant": True,
          "resolution": resolution, "mode": mode}
    both = GaborTransformer((16, 16, 3), **kw).fit(X)
    only2 = GaborTransformer((16, 16, 3), first_order=False, **kw).fit(X)
    got = only2.transform(X)
    want = both.transform(X)[:, -got.shape[1]:]
    if mode == "wrap":
        tol = 0
    elif resolution == "full":
        tol = 2e-6 * np.abs(want).max()
    else:  # 'auto': each bank's plan picks FFT buffers and bands for its own kernels,
        # within the accuracy of 'auto' (1e-2 in norm is what tests require of it)
        tol = 1e-3 * np.abs(want).max()
    np.testing.assert_allclose(got, want, rtol=0, atol=tol)
    np.testing.assert_array_equal(only2.get_feature_names_out(),
                                  both.get_feature_names_out()[-got.shape[1]:])
    # what was dropped is exactly the first-order block
    first = GaborTransformer((16, 16, 3), **{**kw, "order": 1}).fit(X)
    assert both.transform(X).shape[1] - got.shape[1] == first.transform(X).shape[1]


def test_first_order_false_needs_a_cascade():
    with pytest.raises(ValueError, match="order=1 with first_order=False"):
        GaborTransformer((8, 8), first_order=False).fit(X8)
    with pytest.raises(ValueError, match="at least two distinct frequencies"):
        GaborTransformer((8, 8), frequencies=(0.2,), order=2, first_order=False).fit(X8)
    with pytest.raises(InvalidParameterError, match="'first_order' parameter"):
        GaborTransformer((8, 8), first_order="no").fit(X8)


def test_documented_recipe_has_no_repeated_columns():
    """The recipe's Gabor features repeat no column (each first-order column
    of the cascade's frequencies appears once)."""
    sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
    try:
        from bench_accuracy import recipe_transformer
    finally:
        sys.path.pop(0)
    X = np.random.RandomState(1).randint(0, 256, size=(2, 32 * 32 * 3)).astype(np.uint8)
    union = recipe_transformer(n_jobs=1).fit(X)
    names = union.get_feature_names_out()
    bare = [n.split("__", 1)[1] for n in names]
    assert len(set(bare)) == len(bare)
    assert union.transform(X).shape[1] == 768 + 4608


# ------------------------------------------------------------ already right
def test_negative_n_jobs_equal_one_thread():
    X = RNG.rand(5, 64)
    one = GaborTransformer((8, 8), batch_size=2).fit(X).transform(X)
    for n_jobs in (-1, -3, -1000):
        got = GaborTransformer((8, 8), batch_size=2, n_jobs=n_jobs).fit(X).transform(X)
        np.testing.assert_array_equal(got, one)


def test_close_frequencies_have_unique_names():
    gt = GaborTransformer((8, 8), frequencies=(0.1, 0.10001)).fit(X8)
    names = gt.get_feature_names_out()
    assert len(set(names)) == len(names) == 256
    assert names[0].startswith("f0.1_") and names[128].startswith("f0.10001_")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_contrast_normalization_of_huge_values(dtype):
    """Contrast-normalized features of X * 1e200 (whose variance overflows
    float64) equal those of X."""
    kw = {"contrast_normalization": True, "dtype": dtype, "frequencies": (0.1, 0.3)}
    want = GaborTransformer((8, 8), **kw).fit(X8).transform(X8)
    got = GaborTransformer((8, 8), **kw).fit(X8 * 1e200).transform(X8 * 1e200)
    assert np.abs(got).min() > 0
    np.testing.assert_allclose(got, want, rtol=1e-4 if dtype == "float32" else 1e-6)


@pytest.mark.parametrize("cn", [False, True])
def test_tiny_float64_values_with_float32_output_are_refused(cn):
    """Values near 1e-300 would become zeros in float32: a clear error, never
    zero features."""
    gt = GaborTransformer((8, 8), contrast_normalization=cn).fit(X8 * 1e-300)
    with pytest.raises(ValueError, match="below the smallest normal float32.*dtype='float64'"):
        gt.transform(X8 * 1e-300)


def test_low_frequency_kernels_bounded_by_the_image():
    gt = GaborTransformer((8, 8), frequencies=(0.001,), n_orientations=2).fit(X8)
    assert max(max(k.shape) for k in gt.kernels_) <= 17


# ------------------------------------------------------ bounds and errors
def test_whole_bank_bound_is_checked_before_building(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the bank was built before its size was checked")

    monkeypatch.setattr(gabor_module, "build_features", refuse)
    gt = GaborTransformer((128, 128), frequencies=(0.4,), n_orientations=20000)
    with pytest.raises(ValueError, match=r"filter bank would need [\d.]+ GiB.*n_orientations"):
        gt.fit(np.zeros((1, 128 * 128)))
    assert not hasattr(gt, "kernels_")


@pytest.mark.parametrize(
    "params, err, match",
    [
        ({"pool_grid": (np.inf, 2)}, InvalidParameterError, r"pool_grid must be a pair of ints"),
        ({"pool_grid": (2.5, 2)}, InvalidParameterError, r"pool_grid must be a pair of ints"),
        ({"pool_grid": 4}, InvalidParameterError, r"pool_grid"),
        ({"pool_stats": ("mean", "mean")}, InvalidParameterError, r"pool_stats must be"),
        ({"image_shape": (8, 8.0)}, InvalidParameterError, r"image_shape must be"),
        ({"frequencies": (0.1, 0.6)}, InvalidParameterError, r"frequencies must lie in"),
        ({"frequencies": [[0.1]]}, InvalidParameterError, r"frequencies must be"),
        ({"thetas": ["a"]}, InvalidParameterError, r"thetas must be"),
        ({"sigma_x": 1e-300, "sigma_y": 1e-300}, ValueError,
         r"sigma_x=1e-300 and sigma_y=1e-300 are too small.*overflows"),
        ({"bandwidth": 1e-300}, ValueError, r"bandwidth=1e-300 has sigma_x=inf"),
        ({"n_stds": 1e300}, ValueError, r"n_stds=1e\+300 would have [\d.e+]+ x [\d.e+]+ pixels"),
        ({"sigma_x": 1e200, "mode": "constant"}, ValueError, r"sigma_x=1e\+200"),
    ],
)
def test_bad_parameters_name_themselves(params, err, match):
    gt = GaborTransformer(**{"image_shape": (8, 8), **params})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow notes on the way
        with pytest.raises(err, match=match):
            gt.fit(X8)
    assert not hasattr(gt, "kernels_")


def test_large_bandwidth_is_fine():
    """bandwidth=2000 is a valid (very narrow) envelope: sigma -> its limit."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F = GaborTransformer((8, 8), bandwidth=2000).fit(X8).transform(X8)
    assert np.all(np.isfinite(F))


def test_image_shape_none_on_non_square_rows_warns():
    with pytest.warns(UserWarning, match=r"image_shape=None and X has 60 features"):
        gt = GaborTransformer().fit(RNG.rand(2, 60))
    assert gt.image_shape_ == (1, 60, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert GaborTransformer().fit(RNG.rand(2, 64)).image_shape_ == (8, 8, 1)


def test_transform_restores_blas_threads():
    """transform runs its matrix products with one BLAS thread
    and gives the caller's BLAS thread count back afterwards."""
    from threadpoolctl import threadpool_info

    def blas_threads():
        return [(i["filepath"], i["num_threads"]) for i in threadpool_info()
                if i["user_api"] == "blas"]

    X = np.random.RandomState(0).rand(6, 8 * 8)
    before = blas_threads()
    gt = GaborTransformer((8, 8), batch_size=2, order=2, n_jobs=2).fit(X)
    one = GaborTransformer((8, 8), batch_size=2, order=2, n_jobs=1).fit(X).transform(X)
    np.testing.assert_allclose(gt.transform(X), one, rtol=1e-6)
    assert blas_threads() == before
