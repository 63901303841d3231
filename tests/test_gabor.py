"""Tests of GaborTransformer: references, properties, errors, CIFAR pipeline."""

import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage as ndi
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_gabor import GaborTransformer, gabor_kernel

from conftest import reference_response

RNG = np.random.RandomState(0)


def _full_kernel(p):
    """The kernel of a kernel_params_ entry, as gabor_kernel builds it."""
    return gabor_kernel(p["frequency"], p["theta"], p["bandwidth"], p["sigma_x"],
                        p["sigma_y"], p["n_stds"], p["offset"])


@pytest.mark.parametrize("mode", ["reflect", "constant", "wrap"])
@pytest.mark.parametrize("shape", [(16, 16), (7, 11), (3, 2, 3)])
def test_response_equals_ndimage_convolve(mode, shape):
    """Per-pixel 'pooling' exposes the filtered maps; kernels up to 69x69 are
    larger than every image here (and are cut to what the image can use: the
    reference convolves the full kernels)."""
    H, W = shape[:2]
    C = shape[2] if len(shape) == 3 else 1
    X = RNG.rand(2, H * W * C)
    maps = {}
    for nl in ("real", "imag", "modulus"):
        gt = GaborTransformer(
            shape,
            frequencies=(0.05, 0.3),
            n_orientations=3,
            mode=mode,
            nonlinearity=nl,
            pool_grid=(H, W),
            resolution="full",
            dtype="float64",
        ).fit(X)
        maps[nl] = gt.transform(X).reshape(2, len(gt.kernels_), C, H, W)
    full = [_full_kernel(p) for p in gt.kernel_params_]
    assert max(max(k.shape) for k in full) > 2 * max(H, W)
    for i in range(2):
        img = X[i].reshape(H, W, C)
        for j, k in enumerate(full):
            for c in range(C):
                r = reference_response(img[:, :, c], k, mode)
                np.testing.assert_allclose(maps["real"][i, j, c], r.real, atol=1e-12)
                np.testing.assert_allclose(maps["imag"][i, j, c], r.imag, atol=1e-12)
                np.testing.assert_allclose(maps["modulus"][i, j, c], np.abs(r), atol=1e-12)


def test_pooling_and_nonlinearities_against_direct_computation():
    H, W = 12, 10
    X = RNG.rand(3, H * W)
    common = dict(frequencies=(0.25,), thetas=(0.4,), resolution="full", dtype="float64")
    k = GaborTransformer((H, W), **common).fit(X).kernels_[0]
    r = np.stack([reference_response(x.reshape(H, W), k, "reflect") for x in X])
    bh, bw = [0, 4, 8, 12], [0, 5, 10]
    for nl, fn in [
        ("modulus", np.abs),
        ("squared", lambda z: np.abs(z) ** 2),
        ("real", np.real),
    ]:
        gt = GaborTransformer(
            (H, W), nonlinearity=nl, pool_grid=(3, 2), pool_stats=("mean", "max", "std"), **common
        )
        F = gt.fit_transform(X).reshape(3, 3, 2, 3)
        m = fn(r)
        for a in range(3):
            for b in range(2):
                cell = m[:, bh[a] : bh[a + 1], bw[b] : bw[b + 1]].reshape(3, -1)
                np.testing.assert_allclose(F[:, a, b, 0], cell.mean(1), atol=1e-12)
                np.testing.assert_allclose(F[:, a, b, 1], cell.max(1), atol=1e-12)
                np.testing.assert_allclose(F[:, a, b, 2], cell.std(1), atol=1e-12)
    gt = GaborTransformer((H, W), nonlinearity="rectified", pool_grid=(1, 1), **common)
    F = gt.fit_transform(X).reshape(3, 2)
    np.testing.assert_allclose(F[:, 0], np.maximum(r.real, 0).mean((1, 2)), atol=1e-12)
    np.testing.assert_allclose(F[:, 1], np.maximum(r.imag, 0).mean((1, 2)), atol=1e-12)
    # uneven cells: 7 rows in 3 cells -> [0, 2), [2, 4), [4, 7)
    X7 = RNG.rand(2, 7 * 5)
    gt = GaborTransformer((7, 5), pool_grid=(3, 1), pool_stats="max", **common).fit(X7)
    r7 = np.stack([reference_response(x.reshape(7, 5), gt.kernels_[0], "reflect") for x in X7])
    F = gt.transform(X7)
    expect = np.stack([np.abs(r7[:, s:e]).max((1, 2)) for s, e in [(0, 2), (2, 4), (4, 7)]], 1)
    np.testing.assert_allclose(F, expect, atol=1e-12)


def _cifar_like(n, rng):
    """Smooth random color images with edges and noise, uint8."""
    base = rng.rand(n, 8, 8, 3)
    imgs = np.repeat(np.repeat(base, 4, axis=1), 4, axis=2)
    imgs = ndi.gaussian_filter(imgs, sigma=(0, 1.0, 1.0, 0)) + 0.05 * rng.randn(n, 32, 32, 3)
    return (np.clip(imgs, 0, 1) * 255).astype(np.uint8).reshape(n, -1)


def _load_cifar(n):
    root = os.environ.get("SKLEARN_GABOR_DATA")
    if not root:
        return None
    path = Path(root) / "cifar-10-batches-py" / "data_batch_1"
    if not path.exists():
        return None
    with open(path, "rb") as f:
        d = pickle.load(f, encoding="bytes")
    X = d[b"data"][:n].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).reshape(n, -1)
    return np.ascontiguousarray(X), np.asarray(d[b"labels"][:n])


@pytest.mark.parametrize("nonlinearity", ["modulus", "squared"])
def test_reduced_resolution_matches_full(nonlinearity):
    rng = np.random.RandomState(1)
    datasets = [_cifar_like(40, rng), rng.randint(0, 256, (20, 3072)).astype(np.uint8)]
    cifar = _load_cifar(100)
    if cifar is not None:
        datasets.append(cifar[0])
    kw = dict(image_shape=(32, 32, 3), nonlinearity=nonlinearity, dtype="float64")
    auto = GaborTransformer(**kw).fit(datasets[0])
    full = GaborTransformer(resolution="full", **kw).fit(datasets[0])
    assert any(s != (1, 1) for s in auto.strides_)  # the fast path is exercised
    assert all(s == (1, 1) for s in full.strides_)
    for X in datasets:
        a, b = auto.transform(X), full.transform(X)
        assert np.linalg.norm(a - b) / np.linalg.norm(b) < 1e-2
        assert np.abs(a - b).max() / np.abs(b).max() < 2e-2
    # statistics that coarse sampling would bias stay at full resolution
    gt = GaborTransformer(**kw, pool_stats=("mean", "max")).fit(datasets[0])
    assert all(s == (1, 1) for s in gt.strides_)


def test_float32_close_to_float64_and_dtypes():
    X = _cifar_like(6, np.random.RandomState(2))
    f32 = GaborTransformer((32, 32, 3)).fit_transform(X)
    f64 = GaborTransformer((32, 32, 3), dtype="float64").fit_transform(X)
    assert f32.dtype == np.float32 and f64.dtype == np.float64
    np.testing.assert_allclose(f32, f64, rtol=1e-3, atol=1e-5 * np.abs(f64).max())
    Xf = X.astype(np.float64) / 255
    assert GaborTransformer((32, 32, 3), dtype=None).fit_transform(Xf).dtype == np.float64
    assert GaborTransformer((32, 32, 3), dtype=None).fit_transform(Xf.astype(np.float32)).dtype == np.float32
    # uint8 is read as x / 255
    np.testing.assert_allclose(
        GaborTransformer((32, 32, 3), dtype="float64").fit_transform(Xf), f64, rtol=1e-10
    )


def test_transform_pure_deterministic_and_batch_invariant():
    X = _cifar_like(7, np.random.RandomState(3))
    X_copy = X.copy()
    gt = GaborTransformer((32, 32, 3), batch_size=3, n_jobs=2).fit(X)
    state = {k: v for k, v in vars(gt).items() if not isinstance(v, (list, dict))}
    a = gt.transform(X)
    b = gt.transform(X)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(X, X_copy)
    assert state.keys() == {k for k, v in vars(gt).items() if not isinstance(v, (list, dict))}
    c = GaborTransformer((32, 32, 3), batch_size=256).fit(X).transform(X)
    np.testing.assert_allclose(a, c, rtol=1e-5, atol=1e-6)


def test_color_modes_and_normalization():
    X = _cifar_like(4, np.random.RandomState(4)).astype(np.float64) / 255
    imgs = X.reshape(4, 32, 32, 3)
    kw = dict(frequencies=(0.2,), n_orientations=2, pool_grid=(2, 2), dtype="float64")
    gray = GaborTransformer((32, 32, 3), color="gray", **kw).fit_transform(X)
    lum = imgs @ np.array([0.2125, 0.7154, 0.0721])
    ref = GaborTransformer((32, 32), **kw).fit_transform(lum.reshape(4, -1))
    np.testing.assert_allclose(gray, ref, rtol=1e-10)
    opp = GaborTransformer((32, 32, 3), color="opponent", **kw).fit(X)
    assert opp.channel_names_ == ["lum", "rg", "yb"]
    F = opp.transform(X).reshape(4, 2, 3, 4)
    rg = (imgs[..., 0] - imgs[..., 1]).reshape(4, -1)
    np.testing.assert_allclose(F[:, :, 1], GaborTransformer((32, 32), **kw).fit_transform(rg).reshape(4, 2, 4), rtol=1e-10)
    # contrast normalization: invariant to an affine change of intensity
    cn = GaborTransformer((32, 32, 3), contrast_normalization=True, **kw).fit(X)
    np.testing.assert_allclose(cn.transform(X), cn.transform(3 * X + 7), rtol=1e-6, atol=1e-9)
    # compression is the sign-preserving map of the pooled features
    base = GaborTransformer((32, 32, 3), nonlinearity="real", **kw).fit_transform(X)
    for comp, fn in [("log1p", np.log1p), ("sqrt", np.sqrt)]:
        out = GaborTransformer((32, 32, 3), nonlinearity="real", compression=comp, **kw).fit_transform(X)
        np.testing.assert_allclose(out, np.sign(base) * fn(np.abs(base)), rtol=1e-10)


def test_feature_names_and_pandas_output():
    pd = pytest.importorskip("pandas")
    X = _cifar_like(3, np.random.RandomState(5))
    gt = GaborTransformer((32, 32, 3), frequencies=(0.1, 0.25), n_orientations=4, pool_grid=(2, 2), pool_stats=("mean", "std"))
    df = gt.set_output(transform="pandas").fit_transform(X)
    names = gt.get_feature_names_out()
    assert isinstance(df, pd.DataFrame) and list(df.columns) == list(names)
    assert len(set(names)) == len(names) == 8 * 3 * 4 * 2
    assert names[0] == "f0.1_theta0_ch0_cell0-0_mean"
    assert names[-1] == "f0.25_theta135_ch2_cell1-1_std"
    rect = GaborTransformer((32, 32, 3), frequencies=0.1, n_orientations=1, pool_grid=(1, 1), nonlinearity="rectified").fit(X)
    assert list(rect.get_feature_names_out()) == [
        f"f0.1_theta0_{p}_ch{c}_cell0-0_mean" for p in ("re+", "im+") for c in range(3)
    ]


def test_image_shape_none_rule():
    gt = GaborTransformer().fit(RNG.rand(3, 49))
    assert gt.image_shape_ == (7, 7, 1) and gt.pool_grid_ == (4, 4)
    gt = GaborTransformer().fit(RNG.rand(3, 5))
    assert gt.image_shape_ == (1, 5, 1) and gt.pool_grid_ == (1, 4)


@pytest.mark.parametrize(
    "params, X, match",
    [
        ({"image_shape": (32, 32, 3)}, RNG.rand(2, 1000), r"X has 1000 features, but image_shape=\(32, 32, 3\)"),
        ({"image_shape": (4, 4)}, RNG.rand(2, 17), r"image_shape=\(4, 4\) requires H \* W \* C = 16"),
        ({"image_shape": (4, -4)}, RNG.rand(2, 16), "image_shape must be"),
        ({"frequencies": (0.1, 0.6)}, RNG.rand(2, 16), r"frequencies must lie in \(0, 0.5\]"),
        ({"frequencies": (0.0,)}, RNG.rand(2, 16), "frequencies"),
        ({"frequencies": 0.7}, RNG.rand(2, 16), "frequencies"),
        ({}, sp.csr_matrix(RNG.rand(2, 16)), "sparse X"),
        ({}, np.where(np.eye(2, 16) > 0, np.nan, 1.0), "Input X contains NaN"),
        ({}, np.where(np.eye(2, 16) > 0, np.inf, 1.0), "Input X contains infinity"),
        ({}, np.full((2, 16), 256, dtype=np.int64), r"Integer X .* \[0, 255\]; got values in \[256, 256\]"),
        ({}, np.full((2, 16), -1, dtype=np.int16), r"\[0, 255\]"),
        ({"color": "opponent", "image_shape": (4, 4)}, RNG.rand(2, 16), "color='opponent' needs 3"),
        ({"pool_grid": (2, 0)}, RNG.rand(2, 16), "pool_grid must be"),
        ({"pool_stats": ("mean", "median")}, RNG.rand(2, 16), "pool_stats must be"),
        ({"thetas": [np.inf]}, RNG.rand(2, 16), "thetas"),
    ],
)
def test_bad_inputs(params, X, match):
    with pytest.raises(ValueError, match=match):
        GaborTransformer(**params).fit(X)


def test_bad_inputs_at_transform():
    gt = GaborTransformer((4, 4)).fit(RNG.rand(2, 16))
    with pytest.raises(ValueError, match="X has 15 features"):
        gt.transform(RNG.rand(2, 15))
    with pytest.raises(ValueError, match="NaN"):
        gt.transform(np.full((1, 16), np.nan))
    with pytest.raises(ValueError, match="sparse"):
        gt.transform(sp.csr_matrix(RNG.rand(2, 16)))


def _grating(H, W, f, theta, phase=0.0):
    y, x = np.mgrid[:H, :W]
    return np.cos(2 * np.pi * f * (x * np.cos(theta) + y * np.sin(theta)) + phase)


@settings(max_examples=25, deadline=None)
@given(
    H=st.integers(1, 12),
    W=st.integers(1, 12),
    C=st.sampled_from([1, 3]),
    n_freq=st.integers(1, 2),
    n_orient=st.integers(1, 3),
    grid=st.tuples(st.integers(1, 4), st.integers(1, 4)),
    stats=st.lists(st.sampled_from(["mean", "max", "std"]), min_size=1, max_size=3, unique=True),
    nonlinearity=st.sampled_from(["modulus", "real", "imag", "rectified", "squared"]),
    mode=st.sampled_from(["reflect", "constant", "wrap"]),
    color=st.sampled_from(["per_channel", "gray", "opponent"]),
    compression=st.sampled_from(["none", "log1p", "sqrt"]),
    seed=st.integers(0, 2**16),
)
def test_property_finite_and_shape(H, W, C, n_freq, n_orient, grid, stats, nonlinearity, mode, color, compression, seed):
    if color == "opponent" and C != 3:
        color = "gray"
    rng = np.random.RandomState(seed)
    X = rng.randint(0, 256, size=(3, H * W * C)).astype(np.uint8)
    gt = GaborTransformer(
        (H, W, C),
        frequencies=[0.05, 0.45][:n_freq],
        n_orientations=n_orient,
        pool_grid=grid,
        pool_stats=tuple(stats),
        nonlinearity=nonlinearity,
        mode=mode,
        color=color,
        compression=compression,
    )
    F = gt.fit_transform(X)
    n_parts = 2 if nonlinearity == "rectified" else 1
    n_chan = 1 if color == "gray" else C
    cells = min(grid[0], H) * min(grid[1], W)
    assert F.shape == (3, n_freq * n_orient * n_parts * n_chan * cells * len(stats))
    assert F.dtype == np.float32 and np.all(np.isfinite(F))
    assert len(gt.get_feature_names_out()) == F.shape[1]


@settings(max_examples=25, deadline=None)
@given(
    f_idx=st.integers(0, 2),
    o_idx=st.integers(0, 7),
    phase=st.floats(0, 2 * np.pi),
    resolution=st.sampled_from(["auto", "full"]),
)
def test_property_grating_excites_matching_orientation(f_idx, o_idx, phase, resolution):
    freqs = (0.1, 0.2, 0.3)
    theta = o_idx * np.pi / 8
    img = _grating(32, 32, freqs[f_idx], theta, phase)
    gt = GaborTransformer((32, 32), frequencies=freqs, pool_grid=(1, 1), resolution=resolution)
    F = gt.fit_transform(img.reshape(1, -1)).reshape(3, 8)
    ortho = (o_idx + 4) % 8
    assert F[f_idx, o_idx] > 2 * F[f_idx, ortho]
    assert np.argmax(F[f_idx]) == o_idx


def test_kernel_larger_than_image_every_mode():
    X = RNG.rand(2, 3 * 2)
    for mode in ("reflect", "constant", "wrap"):
        gt = GaborTransformer((3, 2), frequencies=(0.05,), mode=mode).fit(X)
        assert gt.kernel_params_[0]["shape"][0] > 20
        # stored cut to what a 3 x 2 image can use with this mode
        assert max(k.shape[0] for k in gt.kernels_) <= 2 * 3 + 1
        F = gt.transform(X)
        assert F.shape == (2, 8 * 3 * 2) and np.all(np.isfinite(F))


@pytest.mark.cifar
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_pipeline_on_cifar():
    data = _load_cifar(300)
    if data is None:
        pytest.skip("set SKLEARN_GABOR_DATA to the folder with cifar-10-batches-py/")
    from sklearn_gabor import GDSoftmaxClassifier

    X, y = data
    pipe = make_pipeline(
        GaborTransformer(image_shape=(32, 32, 3)), StandardScaler(), GDSoftmaxClassifier()
    )
    pipe.fit(X[:200], y[:200])
    assert pipe.score(X[:200], y[:200]) > 0.3
    proba = pipe.predict_proba(X[200:])
    assert proba.shape == (100, 10) and np.all(np.isfinite(proba))
