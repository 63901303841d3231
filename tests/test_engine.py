"""The filtering engine on its own: gabor_responses against scipy.ndimage,
kernels cut to what the image can use, the feature layout."""

import ast
from pathlib import Path

import numpy as np
import pytest
import scipy.fft
from conftest import reference_response
from scipy import ndimage as ndi

from sklearn_gabor import gabor_bank, gabor_kernel, gabor_responses
from sklearn_gabor._engine import (
    FeatureLayout,
    build_plan,
    fold_kernel,
    folded_gabor_kernel,
    kernel_labels,
)
from sklearn_gabor._kernels import bank_params

RNG = np.random.RandomState(7)
MODES = ["reflect", "constant", "wrap"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("shape", [(16, 16), (7, 11), (2, 3), (1, 9)])
def test_gabor_responses_equal_ndimage(mode, shape):
    """Every image x kernel response equals the explicit spatial convolution,
    also for kernels many times larger than the image."""
    kernels, _ = gabor_bank([0.04, 0.13, 0.45], n_orientations=3, offset=0.3)
    kernels.append(RNG.rand(3, 5))  # a real, non-square kernel
    images = RNG.rand(2, 3, *shape)  # leading axes: images x channels
    r = gabor_responses(images, kernels, mode=mode)
    assert r.shape == (2, 3, len(kernels)) + shape and r.dtype == np.complex128
    assert max(max(k.shape) for k in kernels) > 4 * max(shape)
    for idx in np.ndindex(2, 3):
        for j, k in enumerate(kernels):
            want = reference_response(images[idx], k, mode)
            np.testing.assert_allclose(r[idx + (j,)], want, rtol=0, atol=1e-12)


def test_gabor_responses_dtypes_single_kernel_and_threads():
    k = gabor_kernel(0.2, 0.7)
    img = RNG.rand(12, 10)
    r64 = gabor_responses(img, k)
    assert r64.shape == (1, 12, 10) and r64.dtype == np.complex128
    np.testing.assert_allclose(r64[0], reference_response(img, k, "reflect"), atol=1e-12)
    r32 = gabor_responses(img.astype(np.float32), k)
    assert r32.dtype == np.complex64
    np.testing.assert_allclose(r32, r64, rtol=0, atol=1e-6 * np.abs(r64).max())
    u8 = (img * 255).astype(np.uint8)
    np.testing.assert_allclose(gabor_responses(u8, [k]), gabor_responses(u8.astype(float), [k]))
    many = RNG.rand(9, 12, 10)
    np.testing.assert_array_equal(gabor_responses(many, [k], n_jobs=-1),
                                  gabor_responses(many, [k]))


@pytest.mark.parametrize(
    "args, kwargs, match",
    [
        ((np.ones(5), [np.ones((3, 3))]), {}, r"images must be .* shape \(\.\.\., H, W\)"),
        ((np.ones((4, 4)), [np.ones((2, 3))]), {}, "odd sizes.*kernel 0 has shape \\(2, 3\\)"),
        ((np.ones((4, 4)), []), {}, "at least one kernel"),
        ((np.ones((4, 4)), [np.full((3, 3), np.nan)]), {}, "kernels must be finite"),
        ((np.full((4, 4), np.inf), [np.ones((3, 3))]), {}, "images must be finite"),
        ((np.ones((4, 4)), [np.ones((3, 3))]), {"mode": "nearest"}, "mode must be one of"),
        ((np.ones((4, 4)), [np.ones((3, 3))]), {"n_jobs": 0}, "n_jobs must be"),
        ((np.ones((4, 4), dtype=complex), [np.ones((3, 3))]), {}, "real array"),
    ],
)
def test_gabor_responses_errors(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        gabor_responses(*args, **kwargs)


@pytest.mark.parametrize("mode", MODES)
def test_folded_kernels_are_exact_and_bounded(mode):
    """A kernel cut to what an 8 x 5 image can use gives the same response as
    the full kernel, and is built without building the full one."""
    shape = (8, 5)
    img = RNG.rand(*shape)
    for prm in bank_params([0.01, 0.07], thetas=[0.0, 0.5, 2.0], sigma_y=9.0):
        full = gabor_kernel(prm["frequency"], prm["theta"], prm["bandwidth"], prm["sigma_x"],
                            prm["sigma_y"], prm["n_stds"], prm["offset"])
        cut = folded_gabor_kernel(prm, shape, mode)
        np.testing.assert_array_equal(cut, fold_kernel(full, shape, mode))
        bound = {"wrap": (9, 5), "reflect": (17, 11), "constant": (15, 9)}[mode]
        assert cut.shape[0] <= bound[0] and cut.shape[1] <= bound[1]
        np.testing.assert_allclose(reference_response(img, cut, mode),
                                   reference_response(img, full, mode), atol=1e-13)
    small = gabor_kernel(0.4)
    assert fold_kernel(small, (32, 32), mode) is small  # fits: unchanged


def test_plan_groups_and_strides():
    """Reduced resolution groups band-limited filters on coarser grids; the
    chunks name the filters they hold."""
    kernels, _ = gabor_bank([0.05, 0.4], n_orientations=2)
    kernels = [fold_kernel(k, (32, 32), "wrap") for k in kernels]
    full = build_plan(kernels, (32, 32), "wrap")
    assert full.fft_shape == (32, 32) and set(full.strides) == {(1, 1)}
    coarse = build_plan(kernels, (32, 32), "wrap", max_strides=(4, 4))
    assert coarse.strides[0] == (4, 4) and coarse.strides[-1] == (1, 1)
    img = RNG.rand(2, 1, 32, 32)
    seen = []
    ref = {int(f): m for fs, _, maps in full.responses(img) for f, m in zip(fs, maps.transpose(2, 0, 1, 3, 4))}
    for filters, (sh, sw), maps in coarse.responses(img):
        assert maps.shape == (2, 1, len(filters), 32 // sh, 32 // sw)
        for f, m in zip(filters, maps.transpose(2, 0, 1, 3, 4)):
            seen.append(int(f))
            # the coarse modulus samples the full one at block centres (to 'auto' accuracy)
            want = np.abs(ref[int(f)]).reshape(2, 1, 32 // sh, sh, 32 // sw, sw).mean((3, 5))
            assert np.linalg.norm(np.abs(m) - want) <= 0.1 * np.linalg.norm(want)
    assert sorted(seen) == list(range(len(kernels)))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("shape", [(32, 32), (15, 17)])
def test_demodulated_plan_moduli_equal_ndimage(mode, shape):
    """Demodulated plans (band groups, buffers per kernel size, one real FFT
    per channel) give the modulus of the explicit spatial convolution at full
    resolution, and its block-centre samples on coarse grids."""
    def modulus(k):
        return np.abs([[reference_response(c, k, mode) for c in im] for im in img])

    kernels, _ = gabor_bank([0.1, 0.3, 0.45], n_orientations=2)
    kernels = [fold_kernel(k, shape, mode) for k in kernels]
    # the bands hold the kernels' energy weighted by a natural-image spectrum:
    # smooth images (white noise has more energy far from DC)
    img = ndi.gaussian_filter(RNG.rand(2, 2, *shape), sigma=(0, 0, 1, 1), mode="wrap")
    full = build_plan(kernels, shape, mode, demodulate=True)
    kinds, seen = set(), []
    for part in full.parts or [(None, full)]:
        kinds |= {type(g).__name__ for g in part[1].groups}
    for filters, stride, maps in full.responses(img):
        assert stride == (1, 1) and maps.shape == (2, 2, len(filters)) + shape
        for f, m in zip(filters, maps.transpose(2, 0, 1, 3, 4)):
            seen.append(int(f))
            want = modulus(kernels[int(f)])
            np.testing.assert_allclose(np.abs(m), want, rtol=0, atol=3e-3 * want.max())
    assert sorted(seen) == list(range(len(kernels)))
    assert "BandGroup" in kinds
    coarse = build_plan(kernels, shape, mode, max_strides=(2, 2), demodulate=True)
    if mode != "wrap" or (shape[0] % 2 == 0 and shape[1] % 2 == 0):  # 'wrap' keeps length n
        assert any(s == (2, 2) for s in coarse.strides)
    for filters, (sh, sw), maps in coarse.responses(img):
        for f, m in zip(filters, maps.transpose(2, 0, 1, 3, 4)):
            want = modulus(kernels[int(f)])
            if (sh, sw) == (1, 1):
                np.testing.assert_allclose(np.abs(m), want, rtol=0, atol=3e-3 * want.max())
            else:  # block means of the full modulus, to 'auto' accuracy
                H, W = (shape[0] // sh) * sh, (shape[1] // sw) * sw
                blocks = want[..., :H, :W].reshape(2, 2, H // sh, sh, W // sw, sw).mean((3, 5))
                assert np.linalg.norm(np.abs(m) - blocks) <= 0.1 * np.linalg.norm(blocks)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("shape, strides", [((32, 32), (2, 2)), ((24, 20), (4, 4))])
def test_maps_last_responses_equal_maps_first_and_ndimage(mode, shape, strides):
    """FilterPlan.responses_last (maps on the last axis, leading axes kept:
    band products over all maps at once, coarse and full FFT groups, buffers
    per kernel size) gives the moduli of FilterPlan.responses, and at full
    resolution those of the explicit spatial convolution; complex64 plans
    keep float32 maps complex64."""
    from sklearn_gabor._engine._plan import BandGroup

    kernels, _ = gabor_bank([0.05, 0.1, 0.3], n_orientations=8)
    kernels = [fold_kernel(k, shape, mode) for k in kernels]
    img = ndi.gaussian_filter(RNG.rand(3, 2, *shape), sigma=(0, 0, 1, 1), mode="wrap")
    last = img.transpose(1, 2, 3, 0)  # (2, H, W, 3): leading axis 2, maps 3
    plan = build_plan(kernels, shape, mode, max_strides=strides, demodulate=True)
    first = {int(f): (stride, m) for fs, stride, maps in plan.responses(img)
             for f, m in zip(fs, maps.transpose(2, 0, 1, 3, 4))}  # m: (3, 2, Ho, Wo)
    seen, kinds = [], set()
    for part in plan.parts or [(None, plan)]:
        kinds |= {"band" if isinstance(g, BandGroup) else "full" if g.full else "coarse"
                  for g in part[1].groups}
    for filters, stride, maps in plan.responses_last(last):
        assert maps.shape == (2, len(filters), shape[0] // stride[0], shape[1] // stride[1], 3)
        for f, m in zip(filters, maps.transpose(1, 0, 2, 3, 4)):
            seen.append(int(f))
            want_stride, want = first[int(f)]
            assert stride == want_stride
            got = np.abs(m).transpose(3, 0, 1, 2)
            np.testing.assert_allclose(got, np.abs(want), rtol=1e-9, atol=1e-12)
            if stride == (1, 1):
                ref = np.abs([[reference_response(c, kernels[int(f)], mode) for c in im]
                              for im in img])
                np.testing.assert_allclose(got, ref, rtol=0, atol=3e-3 * ref.max())
    assert sorted(seen) == list(range(len(kernels)))
    if shape == (32, 32):
        assert kinds == {"band", "full", "coarse"} and (mode == "wrap") == (not plan.parts)
    # float32 maps through a complex64 plan, no leading axis
    for filters, _, maps in plan.astype(np.complex64).responses_last(
            last[0].astype(np.float32)):
        assert maps.dtype == np.complex64
        for f, m in zip(filters, maps):
            want = np.abs(first[int(f)][1][:, 0])
            got = np.abs(m).transpose(2, 0, 1)
            np.testing.assert_allclose(got, want, rtol=0, atol=1e-5 * want.max())
    with pytest.raises(ValueError, match="demodulated"):
        next(build_plan(kernels, shape, mode).responses_last(last))


def test_pooled_means_of_maps_last_equal_cell_means():
    """Pooling.means_last (maps on the last axis) gives the cell means of
    Pooling.__call__, on full and coarse grids, with uneven cells."""
    from sklearn_gabor._engine import Pooling, cell_bounds

    pooling = Pooling(cell_bounds(24, 3), cell_bounds(20, 2), ("mean",))
    for stride in [(1, 1), (2, 2), (4, 2)]:
        maps = RNG.rand(5, 24 // stride[0], 20 // stride[1], 7)
        want = pooling(maps.transpose(0, 3, 1, 2), stride)[..., 0]  # (5, 7, gh, gw)
        got = pooling.means_last(maps, stride)
        np.testing.assert_allclose(got, want.transpose(0, 2, 3, 1), rtol=1e-12)


def test_hermitian_completion_equals_fft2():
    from sklearn_gabor._engine._plan import _hermitian_full

    for shape in [(8, 8), (7, 9), (6, 5), (1, 4)]:
        x = RNG.rand(3, *shape)
        np.testing.assert_allclose(_hermitian_full(scipy.fft.rfft2(x), shape), scipy.fft.fft2(x),
                                   atol=1e-12)


def test_layout_names_views_and_flip():
    params = bank_params([0.1, 0.10001, 0.3], n_orientations=4)
    labels = kernel_labels(params)
    assert len(set(labels)) == len(labels) == 12
    assert labels[0] == "f0.1_theta0" and labels[4] == "f0.10001_theta0"
    layout = FeatureLayout.build([p["frequency"] for p in params], ("",), ("gray",),
                                 (2, 2), ("mean",), (1, 2))
    names = layout.names(labels)
    assert len(names) == len(set(names)) == layout.n_full
    a = np.arange(2 * layout.n_full, dtype=float).reshape(2, -1)
    first, second = layout.views(a)
    assert first.shape == (2, 12, 1, 1, 2, 2, 1) and second.shape == (2, layout.n_pairs, 1, 2, 2, 1)
    assert np.shares_memory(first, a) and np.shares_memory(second, a)
    mirror = np.array([0, 3, 2, 1, 4, 7, 6, 5, 8, 11, 10, 9])
    flipped = layout.with_flip(mirror)
    perm = np.arange(layout.n_full)
    perm[flipped.flip[:, 0]] = flipped.flip[:, 1]
    perm[flipped.flip[:, 1]] = flipped.flip[:, 0]
    assert np.array_equal(perm[perm], np.arange(layout.n_full))  # an involution
    only_second = FeatureLayout.build([p["frequency"] for p in params], ("",), ("gray",),
                                      (2, 2), ("mean",), (2,))
    assert only_second.n_full == layout.n_full - layout.n_first
    assert only_second.names(labels) == names[layout.n_first:]
    assert list(only_second.layer_one_filters()) == list(range(4, 12))


def test_engine_imports_no_scikit_learn():
    """The engine depends on NumPy, SciPy, joblib and the kernels only."""
    root = Path(__file__).parents[1] / "sklearn_gabor" / "_engine"
    for path in root.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                mods = [("." * node.level) + (node.module or "")]
            else:
                continue
            for mod in mods:
                assert not mod.startswith("sklearn"), (path.name, mod)
                if mod.startswith(".."):
                    assert mod == ".._kernels", (path.name, mod)
