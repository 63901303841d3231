"""Tests of ``GaborTransformer(flip_invariant=True)``: the output is the
representative columns of ``(F(x) + F(flip x)) / 2`` (before compression),
checked against features computed on explicitly mirrored images."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone

from sklearn_gabor import GaborTransformer

H, W, C = 16, 16, 3


def _images(n, shape=(H, W, C), seed=0):
    return np.random.RandomState(seed).rand(n, int(np.prod(shape)))


def _flip(X, shape=(H, W, C)):
    """Left-right mirror of every image (columns reversed)."""
    h, w, c = shape
    return X.reshape(len(X), h, w, c)[:, :, ::-1].reshape(len(X), -1)


def _mirror_index(names, gw):
    """Column permutation of the flip_invariant=False layout, from the names.

    Independent of the estimator's own computation: the mirror of a column
    has every ``theta{deg}`` replaced by ``(180 - deg) mod 180`` and the cell
    column ``b`` replaced by ``gw - 1 - b``.
    """

    def mirror_name(name):
        out = []
        for tok in name.split("_"):
            if tok.startswith("theta"):
                deg = (180.0 - float(tok[5:])) % 180.0
                tok = f"theta{deg:.4g}"
            elif tok.startswith("cell"):
                a, b = tok[4:].split("-")
                tok = f"cell{a}-{gw - 1 - int(b)}"
            out.append(tok)
        return "_".join(out)

    where = {name: k for k, name in enumerate(names)}
    assert len(where) == len(names)
    return np.array([where[mirror_name(name)] for name in names])


@pytest.mark.parametrize("n_orientations", [4, 6])
@pytest.mark.parametrize("order", [1, 2])
@pytest.mark.parametrize("color", ["per_channel", "opponent"])
@pytest.mark.parametrize("mode", ["reflect", "wrap", "constant"])
@pytest.mark.parametrize("compression", ["none", "sqrt"])
def test_equals_mean_of_image_and_mirror(compression, mode, color, order, n_orientations):
    """Output == representatives of (F(X) + F(flip X)) / 2, compressed after."""
    X = _images(4)
    kw = dict(
        image_shape=(H, W, C),
        frequencies=(0.15, 0.3),
        n_orientations=n_orientations,
        mode=mode,
        color=color,
        order=order,
        pool_grid=(2, 4),
        resolution="full",
    )
    plain = GaborTransformer(compression="none", **kw).fit(X)
    F = plain.transform(X).astype(np.float64)
    F_flip = plain.transform(_flip(X)).astype(np.float64)
    S = (F + F_flip) / 2
    if compression == "sqrt":
        S = np.sqrt(S)

    perm = _mirror_index(list(plain.get_feature_names_out()), gw=4)
    # the permutation is what relates the features of the mirrored images
    np.testing.assert_allclose(F_flip, F[:, perm], rtol=1e-5, atol=1e-6)
    keep = np.flatnonzero(np.arange(perm.size) <= perm)

    gt = GaborTransformer(compression=compression, flip_invariant=True, **kw).fit(X)
    out = gt.transform(X)
    assert out.dtype == np.float32
    assert out.shape == (4, keep.size)
    np.testing.assert_array_equal(gt.flip_pairs_, np.stack([keep, perm[keep]], 1))
    np.testing.assert_allclose(out, S[:, keep], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("nonlinearity", ["modulus", "squared"])
def test_other_stats_float64_and_batches(nonlinearity):
    """'max'/'std' pooling, float64 and several batches (one partial)."""
    X = _images(7, seed=1)
    kw = dict(
        image_shape=(H, W, C),
        frequencies=(0.1, 0.25),
        n_orientations=8,
        nonlinearity=nonlinearity,
        pool_stats=("mean", "max", "std"),
        pool_grid=(3, 2),
        resolution="full",
        dtype="float64",
    )
    plain = GaborTransformer(**kw).fit(X)
    S = (plain.transform(X) + plain.transform(_flip(X))) / 2
    perm = _mirror_index(list(plain.get_feature_names_out()), gw=2)
    keep = np.flatnonzero(np.arange(perm.size) <= perm)
    gt = GaborTransformer(flip_invariant=True, batch_size=3, **kw).fit(X)
    out = gt.transform(X)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, S[:, keep], rtol=1e-10, atol=1e-12)
    one_batch = clone(gt).set_params(batch_size=256).fit(X).transform(X)
    np.testing.assert_allclose(out, one_batch, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"mode": "wrap", "color": "gray", "order": 2, "compression": "log1p"},
        {"mode": "constant", "sigma_x": 2.0, "sigma_y": 4.0, "offset": 0.7},
        # closed under the mirror modulo pi only: 2 pi - 0.4 = pi - 0.4 (mod pi)
        {"thetas": [0.0, 0.4, 2 * np.pi - 0.4, np.pi / 2, np.pi]},
        {"n_orientations": 5, "pool_grid": (1, 1), "contrast_normalization": True},
    ],
)
def test_invariant_at_full_resolution(extra):
    X = _images(3, seed=2)
    kw = dict(image_shape=(H, W, C), frequencies=(0.12, 0.3), pool_grid=(2, 2))
    kw.update(extra)
    gt = GaborTransformer(flip_invariant=True, resolution="full", **kw).fit(X)
    out = gt.transform(X)
    np.testing.assert_allclose(gt.transform(_flip(X)), out, rtol=1e-5, atol=1e-6)
    # and not trivially: the plain features do change under the flip
    plain = GaborTransformer(resolution="full", **kw).fit(X)
    assert not np.allclose(plain.transform(_flip(X)), plain.transform(X), rtol=1e-3)


@pytest.mark.parametrize("mode", ["reflect", "wrap", "constant"])
def test_nearly_invariant_at_reduced_resolution(mode):
    """resolution='auto' samples coarser grids that are not exact mirror
    images: invariance holds to the accuracy of 'auto' (1e-2 in norm)."""
    shape = (32, 32, 3)
    X = _images(3, shape=shape, seed=3)
    gt = GaborTransformer(
        shape, mode=mode, pool_grid=(2, 2), flip_invariant=True, resolution="auto"
    ).fit(X)
    assert any(s != (1, 1) for s in gt.strides_)  # the reduced path is used
    out = gt.transform(X)
    diff = gt.transform(_flip(X, shape)) - out
    assert np.linalg.norm(diff) <= 1e-2 * np.linalg.norm(out)


@pytest.mark.parametrize(
    "n_orientations, pool_grid, order",
    [(4, (2, 2), 1), (8, (4, 4), 1), (6, (2, 4), 2), (4, (3, 3), 1), (5, (2, 1), 2)],
)
def test_output_width(n_orientations, pool_grid, order):
    """Half the columns for even gw (every orbit has 2 columns); otherwise
    (n_full + n_fixed) / 2 with n_fixed the columns that are their own mirror."""
    X = _images(2, shape=(12, 12, 2))
    kw = dict(
        image_shape=(12, 12, 2),
        frequencies=(0.15, 0.3),
        n_orientations=n_orientations,
        pool_grid=pool_grid,
        order=order,
    )
    n_full = GaborTransformer(**kw).fit(X).transform(X).shape[1]
    gt = GaborTransformer(flip_invariant=True, **kw).fit(X)
    n_out = gt.transform(X).shape[1]
    gh, gw = pool_grid
    if gw % 2 == 0:
        assert n_out * 2 == n_full
    # orientations j pi / L that are their own mirror: 0, and pi / 2 if L is even
    self_mirror = 2 if n_orientations % 2 == 0 else 1
    n_fixed = 2 * self_mirror * 2 * gh * (gw % 2)  # frequencies x kernels x C x cells
    if order == 2:
        # pair (i, j) is fixed iff both kernels are: 1 pair of frequencies
        n_fixed += self_mirror**2 * 2 * gh * (gw % 2)
    assert n_out == (n_full + n_fixed) // 2
    # and the orbits counted from the column pairs themselves
    orbits = np.unique(np.sort(gt.flip_pairs_, axis=1), axis=0)
    assert len(orbits) == n_out


def test_feature_names_and_pandas_output():
    pd = pytest.importorskip("pandas")
    X = _images(3)
    gt = GaborTransformer(
        (H, W, C), frequencies=(0.1, 0.3), n_orientations=4, order=2, flip_invariant=True
    ).fit(X)
    names = gt.get_feature_names_out()
    out = gt.transform(X)
    assert len(names) == out.shape[1]
    assert len(set(names)) == len(names)
    assert all(name.endswith("_lrmean") for name in names)
    assert names[0] == "f0.1_theta0_ch0_cell0-0_mean_lrmean"
    assert "f0.1_theta45_ch0_cell0-0_mean_lrmean" in set(names)
    assert "f0.1_theta135_ch0_cell0-3_mean_lrmean" not in set(names)  # its mirror
    plain = GaborTransformer((H, W, C), frequencies=(0.1, 0.3), n_orientations=4, order=2)
    plain_names = plain.fit(X).get_feature_names_out()
    np.testing.assert_array_equal(names, [n + "_lrmean" for n in plain_names[gt.flip_pairs_[:, 0]]])

    df = clone(gt).set_output(transform="pandas").fit(X).transform(X)
    assert isinstance(df, pd.DataFrame)
    assert list(df.columns) == list(names)
    np.testing.assert_allclose(df.to_numpy(), out)


@pytest.mark.parametrize("nonlinearity", ["real", "imag", "rectified"])
def test_error_nonlinearity(nonlinearity):
    gt = GaborTransformer((H, W, C), nonlinearity=nonlinearity, flip_invariant=True)
    with pytest.raises(ValueError, match=r"flip_invariant=True needs nonlinearity=.*"
                       rf"got nonlinearity='{nonlinearity}'"):
        gt.fit(_images(2))


def test_error_thetas_not_closed():
    gt = GaborTransformer((H, W, C), thetas=[0.1, 0.5], flip_invariant=True)
    with pytest.raises(ValueError, match=r"flip_invariant=True needs orientations closed.*"
                       r"thetas=\[0\.1, 0\.5\] has no mirror for theta=0\.1"):
        gt.fit(_images(2))
    # the same thetas are fine without flip_invariant
    gt.set_params(flip_invariant=False).fit(_images(2))


def test_error_pool_grid_not_mirror_symmetric():
    X = _images(2, shape=(10, 10))
    gt = GaborTransformer((10, 10), pool_grid=(3, 3), flip_invariant=True)
    with pytest.raises(ValueError, match=r"image width W=10 divisible.*pool_grid=\(3, 3\)"):
        gt.fit(X)
    # rows need not be symmetric: only the columns are mirrored
    GaborTransformer((10, 10), pool_grid=(3, 2), flip_invariant=True).fit(X)


def test_failed_fit_keeps_previous_state():
    X = _images(2)
    gt = GaborTransformer((H, W, C), n_orientations=4, flip_invariant=True).fit(X)
    before = gt.transform(X)
    with pytest.raises(ValueError, match="thetas"):
        gt.set_params(thetas=[0.1, 0.5]).fit(X)
    gt.set_params(thetas=None)
    np.testing.assert_array_equal(gt.transform(X), before)


def test_default_is_off_and_unchanged():
    X = _images(2)
    gt = GaborTransformer((H, W, C), n_orientations=4).fit(X)
    assert gt.flip_invariant is False and gt.flip_pairs_ is None
    assert gt.transform(X).shape[1] == 4 * 4 * C * 16


def test_pickle_and_clone_round_trip():
    X = _images(3)
    gt = GaborTransformer(
        (H, W, C), frequencies=(0.1, 0.3), n_orientations=4, order=2,
        compression="sqrt", flip_invariant=True,
    ).fit(X)
    out = gt.transform(X)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(gt)).transform(X), out)
    np.testing.assert_array_equal(clone(gt).fit(X).transform(X), out)
    assert clone(gt).get_params()["flip_invariant"] is True
