"""Tests of the GaborTransformer options added for accuracy (issue 6):
the second-order cascade (``order=2``), against explicit ``scipy.ndimage``
references."""

import numpy as np
import pytest

from sklearn_gabor import GaborTransformer
from sklearn_gabor.utils._sklearn_compat import InvalidParameterError

from conftest import reference_response

RNG = np.random.RandomState(42)


@pytest.mark.parametrize("mode", ["wrap", "reflect", "constant"])
def test_cascade_equals_ndimage_reference(mode):
    """order=2 features equal pooled | |I * g1| * g2 | computed with ndimage."""
    H, W, C = 12, 10, 2
    X = RNG.rand(2, H * W * C)
    gt = GaborTransformer(
        (H, W, C),
        frequencies=(0.15, 0.3),
        n_orientations=2,
        mode=mode,
        order=2,
        pool_grid=(2, 2),
        pool_stats=("mean", "max"),
        resolution="full",
        dtype="float64",
    ).fit(X)
    F = gt.transform(X)
    k = gt.kernels_
    # frequency-major bank: kernels 0, 1 at 0.15, kernels 2, 3 at 0.3
    assert gt.cascade_pairs_ == [(2, 0), (2, 1), (3, 0), (3, 1)]
    n1 = len(k) * C * 4 * 2
    assert F.shape == (2, n1 + len(gt.cascade_pairs_) * C * 4 * 2)
    assert len(gt.get_feature_names_out()) == F.shape[1]
    assert gt.get_feature_names_out()[n1] == "f0.3_theta0_f0.15_theta0_ch0_cell0-0_mean"
    second = F[:, n1:].reshape(2, len(gt.cascade_pairs_), C, 2, 2, 2)
    first = F[:, :n1].reshape(2, len(k), 1, C, 2, 2, 2)
    for n in range(2):
        img = X[n].reshape(H, W, C)
        for c in range(C):
            for p, (i, j) in enumerate(gt.cascade_pairs_):
                u = np.abs(reference_response(img[:, :, c], k[i], mode))
                v = np.abs(reference_response(u, k[j], mode))
                for a in range(2):
                    for b in range(2):
                        cell = v[a * 6 : (a + 1) * 6, b * 5 : (b + 1) * 5]
                        np.testing.assert_allclose(second[n, p, c, a, b, 0], cell.mean(), atol=1e-12)
                        np.testing.assert_allclose(second[n, p, c, a, b, 1], cell.max(), atol=1e-12)
            # the first-order block is unchanged by order=2
            u = np.abs(reference_response(img[:, :, c], k[3], mode))
            np.testing.assert_allclose(first[n, 3, 0, c, 1, 0, 0], u[6:, :5].mean(), atol=1e-12)


def test_cascade_reduced_resolution_close_to_full():
    """resolution='auto' (coarse second layer, mean pooling) agrees with 'full'."""
    X = RNG.randint(0, 256, size=(3, 16 * 16 * 3)).astype(np.uint8)
    kw = dict(frequencies=(0.1, 0.2, 0.4), n_orientations=4, order=2, mode="wrap",
              pool_grid=(2, 2), dtype="float64")
    full = GaborTransformer((16, 16, 3), resolution="full", **kw).fit_transform(X)
    auto = GaborTransformer((16, 16, 3), resolution="auto", **kw).fit_transform(X)
    assert np.linalg.norm(auto - full) <= 1e-2 * np.linalg.norm(full)



def test_recipe_cascade_coarse_second_layer_close_to_full():
    """The recipe's cascade (32 x 32 colour images, 8 orientations): with the
    second layer's looser stride guard (its kernels unaliased on the coarse
    grid, their squared modulus not necessarily), the features stay within
    1e-2 of the full-resolution ones, and the second layer of the 0.4 path
    does run coarser than with the first layer's guard."""
    rng = np.random.RandomState(5)
    # smooth, image-like rows: a random walk across pixels plus noise
    walk = np.cumsum(rng.randn(30, 32, 32, 3), axis=2) + rng.randn(30, 32, 32, 3)
    X = (walk - walk.min()) / (walk.max() - walk.min())
    X = X.reshape(30, -1)
    kw = dict(frequencies=(0.1, 0.2, 0.4), n_orientations=8, order=2, first_order=False,
              mode="wrap", pool_grid=(4, 4), compression="sqrt",
              contrast_normalization=True, color="opponent", dtype="float64")
    auto = GaborTransformer((32, 32, 3), **kw).fit(X)
    full = GaborTransformer((32, 32, 3), resolution="full", **kw).fit(X)
    a, b = auto.transform(X), full.transform(X)
    assert np.linalg.norm(a - b) <= 1e-2 * np.linalg.norm(b)
    assert np.abs(a - b).max() <= 2e-2 * np.abs(b).max()
    # every second-layer kernel, the 0.2 ones of the 0.4 path included (full
    # resolution with the first layer's guard), is evaluated on a coarse grid
    strides = [st for step in auto._features.cascade for st in step.plan.strides]
    assert len(strides) == 8 + 16  # second-layer kernels of the 0.2 and 0.4 paths
    assert all(st != (1, 1) for st in strides)
    # and its bands may leave out more of a kernel's (negligible) spectral
    # tail than the first layer's: fewer bins in all than with the default
    from sklearn_gabor._engine._plan import BandGroup, build_plan

    def band_bins(plan):
        return sum(g.spectra.size for g in plan.groups if isinstance(g, BandGroup))

    max_strides = auto._features.pooling.max_strides()
    for step in auto._features.cascade:
        kernels = [auto.kernels_[j] for j in step.path.second]
        strict = build_plan(kernels, (32, 32), "wrap", max_strides, demodulate=True, guard=1)
        assert band_bins(step.plan) < band_bins(strict)


def test_order_one_has_no_pairs_and_same_features():
    X = RNG.rand(2, 8 * 8)
    a = GaborTransformer((8, 8), frequencies=(0.2,), order=1).fit(X)
    b = GaborTransformer((8, 8), frequencies=(0.2,)).fit(X)
    assert a.cascade_pairs_ == []
    np.testing.assert_array_equal(a.transform(X), b.transform(X))
    # a single frequency has no lower frequency to cascade into
    c = GaborTransformer((8, 8), frequencies=(0.2,), order=2).fit(X)
    assert c.cascade_pairs_ == [] and c.transform(X).shape == a.transform(X).shape


@pytest.mark.parametrize("order", [0, 3, 1.5, "2"])
def test_order_is_validated(order):
    with pytest.raises(ValueError, match="order"):
        GaborTransformer((8, 8), order=order).fit(RNG.rand(2, 64))


# ------------------------------------------------------- cascade_frequencies
def _smooth_images(n, H, W, C, seed=0):
    from scipy import ndimage

    rng = np.random.RandomState(seed)
    imgs = ndimage.gaussian_filter(rng.rand(n, H, W, C), sigma=(0, 1, 1, 0), mode="wrap")
    return imgs.reshape(n, -1).astype(np.float32)


@pytest.mark.parametrize("mode, flip", [("wrap", True), ("wrap", False), ("reflect", True)])
def test_cascade_frequencies_equals_two_banks_side_by_side(mode, flip):
    """One transformer with cascade_frequencies gives the columns (values and
    names) of a first-order bank beside a first_order=False cascade."""
    from sklearn.pipeline import FeatureUnion

    X = _smooth_images(5, 32, 32, 3)
    common = dict(image_shape=(32, 32, 3), n_orientations=4, mode=mode, compression="sqrt",
                  contrast_normalization=True, color="opponent", flip_invariant=flip)
    one = GaborTransformer(frequencies=(0.05, 0.1, 0.2, 0.4), order=2,
                           cascade_frequencies=(0.1, 0.2, 0.4), **common).fit(X)
    union = FeatureUnion([
        ("first", GaborTransformer(frequencies=(0.05, 0.1, 0.2, 0.4), **common)),
        ("second", GaborTransformer(frequencies=(0.1, 0.2, 0.4), order=2, first_order=False,
                                    **common)),
    ]).fit(X)
    got, want = one.transform(X), union.transform(X)
    assert got.shape == want.shape == (5, union.transform(X[:1]).shape[1])
    if mode == "wrap":  # every kernel on the same 32 x 32 grid: the same arithmetic
        np.testing.assert_array_equal(got, want)
    else:  # 'reflect' pads the full-resolution kernels' buffers to other lengths
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5 * np.abs(want).max())
    names = [n.split("__", 1)[1] for n in union.get_feature_names_out()]
    assert list(one.get_feature_names_out()) == names
    # kernel indices of the bank: 0-3 are the 0.05 kernels, in no pair
    assert all(i >= 4 and j >= 4 for i, j in one.cascade_pairs_)
    assert len(one.cascade_pairs_) == 4 * 4 + 4 * 8


def test_order_two_samples_kernels_outside_the_cascade_coarsely():
    """Only the kernels that feed the cascade need full-resolution maps: the
    others keep the strides (and features) they have with order=1."""
    X = _smooth_images(4, 32, 32, 1)
    kw = dict(image_shape=(32, 32, 1), frequencies=(0.05, 0.1, 0.3), n_orientations=4,
              mode="wrap")
    one = GaborTransformer(**kw).fit(X)
    two = GaborTransformer(order=2, cascade_frequencies=(0.1, 0.3), **kw).fit(X)
    assert one.strides_[0] != (1, 1)  # the 0.05 kernels: coarse with order=1
    assert two.strides_[:4] == one.strides_[:4]
    # 0.05 outside the cascade, 0.1 only its second layer: as with order=1
    assert two.strides_[:8] == one.strides_[:8]
    assert all(s == (1, 1) for s in two.strides_[8:])  # 0.3 feeds the cascade
    n_low = 8 * 16  # 8 kernels x 1 channel x 16 cells
    np.testing.assert_array_equal(two.transform(X)[:, :n_low], one.transform(X)[:, :n_low])
    # the default order=2: the 0.05 kernels are only second-layer kernels
    full = GaborTransformer(order=2, **kw).fit(X)
    assert full.strides_[:4] == one.strides_[:4]
    assert all(s == (1, 1) for s in full.strides_[4:])


def test_cascade_frequencies_is_validated():
    X = _smooth_images(2, 16, 16, 1)
    kw = dict(image_shape=(16, 16, 1), frequencies=(0.1, 0.2, 0.4))
    with pytest.raises(ValueError, match="needs order=2"):
        GaborTransformer(cascade_frequencies=(0.1, 0.2), **kw).fit(X)
    with pytest.raises(ValueError, match=r"cascade_frequencies must be frequencies of the bank"
                       r".*0\.3 is not one of them"):
        GaborTransformer(order=2, cascade_frequencies=(0.1, 0.3), **kw).fit(X)
    with pytest.raises(ValueError, match="cascade_frequencies needs at least two distinct"):
        GaborTransformer(order=2, cascade_frequencies=(0.2, 0.2), **kw).fit(X)
    with pytest.raises(InvalidParameterError, match="cascade_frequencies must be"):
        GaborTransformer(order=2, cascade_frequencies=["a", "b"], **kw).fit(X)
    gt = GaborTransformer(order=2, first_order=False, cascade_frequencies=(0.2, 0.4), **kw).fit(X)
    assert gt.cascade_pairs_ == [(i, j) for i in range(16, 24) for j in range(8, 16)]
