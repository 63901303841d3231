"""GaborPatchEncoder against direct, patch-by-patch computations."""

import os

import numpy as np
import pytest
from sklearn.decomposition import PCA

from sklearn_gabor import GaborPatchEncoder
from sklearn_gabor._kernels import (
    color_atoms,
    gabor_atom,
    gabor_kernel,
    opponent_color_directions,
)

SMALL = {"frequencies": (0.25,), "n_orientations": 4, "sigmas": (1.5,), "patch_size": 5,
             "random_state": 0}


def _images(n=6, H=11, W=10, C=3, seed=0):
    rng = np.random.RandomState(seed)
    base = rng.randint(0, 256, size=(n, H, W, C)).astype(np.float64)
    # smooth images have a non-trivial patch covariance
    base = (base + np.roll(base, 1, axis=1) + np.roll(base, 1, axis=2)) / 3
    return base.reshape(n, -1)


def _reference(enc, X):
    """The encoding written out patch by patch, in float64."""
    H, W, C = enc.image_shape_
    h, w = enc.patch_shape_
    gh, gw = enc.pool_grid_
    Hp, Wp = H - h + 1, W - w + 1
    rb = [a * Hp // gh for a in range(gh + 1)]
    cb = [b * Wp // gw for b in range(gw + 1)]
    D = enc.dictionary_
    out = np.zeros((len(X), D.shape[0], 2, gh, gw))
    for n, img in enumerate(X.reshape(-1, H, W, C).astype(np.float64)):
        for i in range(Hp):
            for j in range(Wp):
                p = img[i:i + h, j:j + w, :].ravel()
                p = (p - p.mean()) / np.sqrt(p.var() + enc.contrast_eps)
                z = D @ (enc.whitening_ @ (p - enc.mean_))
                a = np.searchsorted(rb, i, side="right") - 1
                b = np.searchsorted(cb, j, side="right") - 1
                out[n, :, 0, a, b] += np.maximum(0, z - enc.threshold)
                out[n, :, 1, a, b] += np.maximum(0, -z - enc.threshold)
    out = out.reshape(len(X), -1)
    return np.sqrt(out) if enc.compression == "sqrt" else out


@pytest.mark.parametrize("kwargs", [
    {"pool_grid": (2, 2)},
    {"pool_grid": (3, 2), "compression": "sqrt", "threshold": 0.1, "n_jobs": 2, "batch_size": 2},
    {"pool_grid": (1, 1), "patch_size": (4, 3), "whitening_eps": 1.0},
])
def test_matches_patch_by_patch_reference(kwargs):
    X = _images()
    enc = GaborPatchEncoder(image_shape=(11, 10, 3), **{**SMALL, **kwargs}).fit(X)
    F = enc.transform(X)
    assert F.dtype == np.float32
    ref = _reference(enc, X)
    assert F.shape == ref.shape
    np.testing.assert_allclose(F, ref, rtol=1e-4, atol=1e-3 * np.abs(ref).max())
    assert np.count_nonzero(ref) > 0.2 * ref.size


def _mirror(X, shape):
    return X.reshape((-1,) + shape)[:, :, ::-1, :].reshape(len(X), -1)


@pytest.mark.parametrize("kwargs", [
    {"pool_grid": (2, 2)},  # 6 columns of positions: symmetric cells
    {"pool_grid": (2, 3), "compression": "sqrt", "n_jobs": 2, "batch_size": 2},
    {"pool_grid": (1, 2), "patch_size": (4, 5), "n_phases": 3},  # partners of opposite sign
    {"pool_grid": (3, 4), "image_shape": (11, 11, 3)},  # 7 columns: no symmetric cells
])
def test_flip_invariant_is_the_mean_over_the_mirror_image(kwargs):
    """flip_invariant=True: (f(x) + f(mirror x)) / 2, f written out patch by patch."""
    kwargs = dict(kwargs)
    shape = kwargs.pop("image_shape", (11, 10, 3))
    X = _images(W=shape[1])
    enc = GaborPatchEncoder(image_shape=shape, flip_invariant=True, **{**SMALL, **kwargs}).fit(X)
    F = enc.transform(X)
    # the reference encodes the mirrored images themselves, with the fitted statistics
    ref = 0.5 * (_reference(enc, X) + _reference(enc, _mirror(X, shape)))
    np.testing.assert_allclose(F, ref, rtol=1e-4, atol=1e-3 * np.abs(ref).max())
    # invariant: the mirrored images give the same features
    np.testing.assert_allclose(enc.transform(_mirror(X, shape)), F, rtol=1e-4,
                               atol=1e-4 * np.abs(F).max())
    # and not the features of the plain encoder
    plain = GaborPatchEncoder(image_shape=shape, **{**SMALL, **kwargs}).fit(X).transform(X)
    assert not np.allclose(plain, F, rtol=1e-2)


def test_flip_invariant_whitening_commutes_with_the_mirror():
    X = _images(n=8)
    enc = GaborPatchEncoder(image_shape=(11, 10, 3), flip_invariant=True, **SMALL).fit(X)
    h, w = enc.patch_shape_
    perm = np.arange(h * w * 3).reshape(h, w, 3)[:, ::-1, :].ravel()
    np.testing.assert_allclose(enc.whitening_[np.ix_(perm, perm)], enc.whitening_, atol=1e-10)
    np.testing.assert_allclose(enc.mean_[perm], enc.mean_, atol=1e-12)
    D = enc.dictionary_
    np.testing.assert_allclose(D[:, perm], enc.mirror_signs_[:, None] * D[enc.mirror_atoms_],
                               atol=1e-12)
    assert set(np.unique(enc.mirror_signs_)) == {-1, 1}  # the odd atoms at theta = 0
    plain = GaborPatchEncoder(image_shape=(11, 10, 3), **SMALL).fit(X)
    assert plain.mirror_atoms_ is None and plain.mirror_signs_ is None


def test_flip_invariant_refuses_a_dictionary_without_mirror_images():
    """Every dictionary built here is closed under the mirror (theta -> pi - theta, and
    phases j pi / n_phases up to a sign); the check guards the construction."""
    import sklearn_gabor._patch_encoder as mod

    X = _images()
    small = {k: v for k, v in SMALL.items() if k != "n_orientations"}
    enc = GaborPatchEncoder(image_shape=(11, 10, 3), flip_invariant=True, n_orientations=3,
                            aspect_ratio=2.0, **small).fit(X)
    h, w = enc.patch_shape_
    perm = np.arange(h * w * 3).reshape(h, w, 3)[:, ::-1, :].ravel()
    D = enc.dictionary_
    np.testing.assert_allclose(D[:, perm], enc.mirror_signs_[:, None] * D[enc.mirror_atoms_],
                               atol=1e-12)
    D = np.eye(4)[[0, 2, 3]]  # mirrored, atom 0 becomes (0, 1, 0, 0): not in D
    with pytest.raises(ValueError, match="flip_invariant=True needs every atom's left-right"):
        mod._mirror_partners(D, np.array([1, 0, 2, 3]))


def test_small_blocks_split_cells_same_result(monkeypatch):
    """Cells split over several blocks give the same sums as whole cells."""
    import sklearn_gabor._patch_encoder as mod

    X = _images(n=3)
    enc = GaborPatchEncoder(image_shape=(11, 10, 3), pool_grid=(1, 1), **SMALL).fit(X)
    F = enc.transform(X)
    monkeypatch.setattr(mod, "_MIN_BLOCK_ROWS", 7)
    monkeypatch.setattr(mod, "_BLOCK_BYTES", 4 * 7 * enc.filters_.shape[1])
    np.testing.assert_allclose(enc.transform(X), F, rtol=1e-5, atol=1e-4)


def test_whitening_matches_pca_and_eigh():
    """ZCA matrix: explicit eigh of the sample covariance, and PCA(whiten) up to eps."""
    X = _images(n=8)
    enc = GaborPatchEncoder(image_shape=(11, 10, 3), whitening_eps=1e-8, **SMALL).fit(X)
    # all patches (fewer than n_whitening_patches): the independent sample
    n, (H, W, C), (h, w) = len(X), enc.image_shape_, enc.patch_shape_
    imgs = X.reshape(n, H, W, C)
    P = np.array([imgs[k, i:i + h, j:j + w].ravel()
                  for k in range(n) for i in range(H - h + 1) for j in range(W - w + 1)])
    P = (P - P.mean(1, keepdims=True)) / np.sqrt(P.var(1, keepdims=True) + 10.0)
    np.testing.assert_allclose(enc.mean_, P.mean(0), atol=1e-12)
    Pc = P - P.mean(0)
    # the whitened patches have identity covariance (on the non-null space)
    U = Pc @ enc.whitening_
    pca = PCA(whiten=True).fit(P)
    keep = pca.explained_variance_ > 1e-6
    # ZCA = rotation of PCA whitening back: W = V^T diag(1/sqrt(lambda)) V
    V = pca.components_[keep]
    lam = pca.explained_variance_[keep] * (len(P) - 1) / len(P)  # PCA divides by n - 1
    W_ref = V.T @ np.diag(1 / np.sqrt(lam)) @ V
    np.testing.assert_allclose(U @ V.T @ V, Pc @ W_ref, rtol=1e-5, atol=1e-5)
    cov_u = (U @ V.T).T @ (U @ V.T) / len(P)
    np.testing.assert_allclose(cov_u, np.eye(keep.sum()), atol=1e-5)
    np.testing.assert_allclose(enc.whitening_, enc.whitening_.T, atol=1e-12)


def test_whitening_sample_is_random_state_dependent():
    X = _images(n=8)
    kw = dict(SMALL, random_state=None)
    a = GaborPatchEncoder(image_shape=(11, 10, 3), n_whitening_patches=50,
                          **{**kw, "random_state": 0}).fit(X)
    b = GaborPatchEncoder(image_shape=(11, 10, 3), n_whitening_patches=50,
                          **{**kw, "random_state": 0}).fit(X)
    c = GaborPatchEncoder(image_shape=(11, 10, 3), n_whitening_patches=50,
                          **{**kw, "random_state": 1}).fit(X)
    np.testing.assert_array_equal(a.whitening_, b.whitening_)
    assert not np.allclose(a.whitening_, c.whitening_)


def test_gabor_atom_is_real_part_of_gabor_kernel():
    """On an odd patch the atom is the centre crop of gabor_kernel's real part."""
    k = gabor_kernel(0.2, theta=0.7, sigma_x=1.5, sigma_y=2.5, offset=0.4)
    y0, x0 = k.shape[0] // 2, k.shape[1] // 2
    crop = k[y0 - 3:y0 + 4, x0 - 3:x0 + 4].real * 2 * np.pi * 1.5 * 2.5
    atom = gabor_atom(7, 0.2, 0.7, sigma_x=1.5, sigma_y=2.5, phase=0.4)
    np.testing.assert_allclose(atom, crop, atol=1e-12)
    # even patches: half-pixel offsets, explicit formula
    a = gabor_atom((6, 4), 0.3, 0.0, sigma_x=2.0, phase=np.pi / 2)
    y = np.arange(6)[:, None] - 2.5
    x = np.arange(4)[None, :] - 1.5
    ref = np.exp(-(x**2 + y**2) / 8.0) * np.cos(2 * np.pi * 0.3 * x + np.pi / 2)
    np.testing.assert_allclose(a, ref, atol=1e-12)


def test_color_atoms_and_directions():
    colors, names = opponent_color_directions(12)
    assert colors.shape == (25, 3) and len(set(names)) == 25
    np.testing.assert_allclose(np.linalg.norm(colors, axis=1), 1.0)
    np.testing.assert_allclose(colors[1:13] @ np.ones(3), 0.0, atol=1e-12)
    spatial = np.stack([gabor_atom(4, 0.25, t, 1.0) for t in (0.0, 1.0)])
    atoms = color_atoms(spatial, colors)
    assert atoms.shape == (50, 48)
    np.testing.assert_allclose(np.linalg.norm(atoms, axis=1), 1.0)
    ref = spatial[1][:, :, None] * colors[3]
    np.testing.assert_allclose(atoms[25 + 3], ref.ravel() / np.linalg.norm(ref))


def test_default_dictionary_size_and_names():
    X = np.random.RandomState(0).randint(0, 256, size=(2, 32 * 32 * 3)).astype(np.uint8)
    enc = GaborPatchEncoder(image_shape=(32, 32, 3), random_state=0).fit(X)
    assert enc.dictionary_.shape == (1862, 108)  # 2 x (1 + 3 x 8 x 2) x 19 colours
    assert enc.filters_.shape == (108, 1862) and enc.filters_.dtype == np.float32
    names = enc.get_feature_names_out()
    assert len(names) == 14896 and len(set(names)) == 14896
    # no atom is the negative of another (its codes would repeat, swapped)
    overlap = enc.dictionary_ @ enc.dictionary_.T
    np.fill_diagonal(overlap, 0)
    assert overlap.min() > -1 + 1e-6
    full = color_atoms(np.ones((1, 6, 6)), opponent_color_directions(12)[0])
    assert (full @ full.T).min() < -1 + 1e-9  # the 25 vectors hold 6 such pairs
    assert names[0] == "s1_blob_lum_pos_cell0-0"
    assert names[4] == "s1_blob_lum_neg_cell0-0"


def test_uint8_and_float_same_codes():
    X = _images().round()
    enc = GaborPatchEncoder(image_shape=(11, 10, 3), **SMALL).fit(X)
    np.testing.assert_allclose(enc.transform(X.astype(np.uint8)),
                               enc.transform(X.astype(np.float32)), rtol=1e-6, atol=1e-5)


def test_memory_flat_in_n_images():
    """transform's working set does not grow with the number of images."""
    import tracemalloc

    X = _images(n=40)
    enc = GaborPatchEncoder(image_shape=(11, 10, 3), batch_size=4, **SMALL).fit(X)
    peaks = []
    for n in (8, 40):
        tracemalloc.start()
        F = enc.transform(X[:n])
        peaks.append(tracemalloc.get_traced_memory()[1] - F.nbytes)
        tracemalloc.stop()
    assert peaks[1] < 1.5 * peaks[0] + 100_000


@pytest.mark.parametrize("kwargs, match", [
    ({"image_shape": (11, 11, 3)}, "image_shape"),
    ({"patch_size": (2, 0)}, "patch_size"),
    ({"pool_grid": (2,)}, "pool_grid"),
    ({"frequencies": (0.6,)}, "frequencies"),
    ({"sigmas": (-1.0,)}, "sigmas"),
    ({"colors": np.ones((2, 2))}, "colors"),
    ({"colors": np.zeros((1, 3))}, "colors"),
    ({"frequencies": (), "blob": False}, "empty"),
    ({"threshold": -0.1}, "threshold"),
    ({"whitening_eps": 0.0}, "whitening_eps"),
    ({"compression": "log"}, "compression"),
])
def test_bad_parameters(kwargs, match):
    params = {**SMALL, "image_shape": (11, 10, 3), **kwargs}
    with pytest.raises(ValueError, match=match):
        GaborPatchEncoder(**params).fit(_images())


def test_bad_input():
    enc = GaborPatchEncoder(image_shape=(11, 10, 3), **SMALL)
    with pytest.raises(ValueError, match=r"\[0, 255\]"):
        enc.fit(np.full((2, 330), 300, dtype=np.int32))
    X = _images()
    X[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        enc.fit(X)
    enc.fit(_images())
    with pytest.raises(ValueError, match="features"):
        enc.transform(_images()[:, :-1])


DATA = os.environ.get("SKLEARN_GABOR_DATA")


@pytest.mark.skipif(not DATA, reason="SKLEARN_GABOR_DATA is not set")
def test_cifar10_accuracy_floor_reduced():
    """Reduced encoder on 2,000 training images: well above raw pixels on batch 5."""
    from sklearn.linear_model import RidgeClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from sklearn_gabor.datasets import fetch_cifar10

    data = fetch_cifar10(data_home=DATA, subset="train", download_if_missing=False)
    tr = np.flatnonzero(data.batch == "data_batch_1")[:2000]
    va = np.flatnonzero(data.batch == "data_batch_5")[:1000]
    X, y = data.data.reshape(len(data.target), -1), data.target
    # the same closed-form linear head on raw pixels and on the codes
    raw = make_pipeline(StandardScaler(), RidgeClassifier(alpha=1e4))
    acc_raw = raw.fit(X[tr], y[tr]).score(X[va], y[va])
    enc = GaborPatchEncoder(image_shape=(32, 32, 3), frequencies=(0.3,), n_orientations=4,
                            sigmas=(1.5,), n_whitening_patches=50_000, compression="sqrt",
                            n_jobs=-1, random_state=0)
    model = make_pipeline(enc, StandardScaler(), RidgeClassifier(alpha=1e4))
    acc = model.fit(X[tr], y[tr]).score(X[va], y[va])
    assert acc > acc_raw + 0.10, (acc, acc_raw)
    assert acc > 0.45, acc


def test_recipe_pipeline_matches_benchmark_recipe():
    """make_cifar10_pipeline's Gabor banks are bench_accuracy's, plus the encoder."""
    import importlib.util
    import pathlib

    from sklearn_gabor import make_cifar10_pipeline

    path = pathlib.Path(__file__).parents[1] / "benchmarks" / "bench_accuracy.py"
    spec = importlib.util.spec_from_file_location("bench_accuracy", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    pipe = make_cifar10_pipeline(encoder=True, n_jobs=1)
    union = pipe.named_steps["features"]
    ref = bench.recipe_transformer(n_jobs=1)
    for (name, est), (ref_name, ref_est) in zip(union.transformer_list, ref.transformer_list):
        assert name == ref_name and est.get_params() == ref_est.get_params()
    assert isinstance(union.transformer_list[-1][1], GaborPatchEncoder)
    assert union.transformer_list[-1][1].compression == "sqrt"
    assert pipe.named_steps["classify"].alpha == bench.RECIPE_ALPHA[10]
    assert make_cifar10_pipeline("cats-vs-dogs").named_steps["classify"].alpha == 0.3
    with pytest.raises(ValueError, match="task"):
        make_cifar10_pipeline("mnist")


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_recipe_pipeline_fits_and_predicts():
    from sklearn_gabor import make_cifar10_pipeline

    rng = np.random.RandomState(0)
    X = rng.randint(0, 256, size=(12, 32 * 32 * 3)).astype(np.uint8)
    y = np.arange(12) % 3
    pipe = make_cifar10_pipeline(n_jobs=1).fit(X, y)
    assert pipe.named_steps["classify"].coef_.shape == (3, 768 + 4608 + 14896)
    assert set(pipe.predict(X)) <= {0, 1, 2}


def test_atoms_that_vanish_on_the_patch_are_zero_not_noise():
    """An odd vertical-stripe atom across a one-row patch is 0 at every pixel: it stays
    exactly zero (normalizing its rounding noise would make an arbitrary filter)."""
    X = np.random.RandomState(0).uniform(0, 255, size=(20, 10))
    enc = GaborPatchEncoder(image_shape=(1, 10), random_state=0, flip_invariant=True).fit(X)
    norms = np.linalg.norm(enc.dictionary_, axis=1)
    zero = norms == 0
    assert zero.any() and np.allclose(norms[~zero], 1.0)
    assert all(p["phase"] > 0 and np.isclose(p["theta"], np.pi / 2)
               for p, z in zip(enc.atom_params_, zero) if z)
    n_cells = np.prod(enc.pool_grid_)
    F = enc.transform(X).reshape(len(X), -1, 2, n_cells)
    assert np.all(F[:, zero] == 0)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("encoder", [False, True])
def test_recipe_pipeline_kernel_map_is_the_gaussian_kernel(encoder):
    """kernel_map=True: Nystroem with gamma = 1 / (4 d) on the d standardized
    features; with as many components as images the map reproduces the exact
    kernel, Z Z^T = exp(-gamma ||x - x'||^2), and the classifier is linear in Z."""
    from sklearn.metrics.pairwise import rbf_kernel
    from sklearn.pipeline import make_pipeline

    from sklearn_gabor import make_cifar10_pipeline

    rng = np.random.RandomState(0)
    X = rng.randint(0, 256, size=(12, 32 * 32 * 3)).astype(np.uint8)
    y = np.arange(12) % 3
    pipe = make_cifar10_pipeline(encoder=encoder, kernel_map=True, n_components=12,
                                 n_jobs=1).fit(X, y)
    assert [name for name, _ in pipe.steps] == [
        "features", "scale", "kernel_map", "kernel_scale", "classify"]
    d = 768 + 4608 + (14896 if encoder else 0)
    F = make_pipeline(pipe.named_steps["features"], pipe.named_steps["scale"]).transform(X)
    assert F.shape == (12, d) and F.dtype == np.float32
    Z = pipe.named_steps["kernel_map"].transform(F)
    assert Z.dtype == np.float32
    np.testing.assert_allclose(Z @ Z.T, rbf_kernel(F, gamma=1.0 / (4 * d)), atol=1e-4)
    assert pipe.named_steps["classify"].coef_.shape == (3, 12)
    assert set(pipe.predict(X)) <= {0, 1, 2}


@pytest.mark.parametrize("param", ["encoder", "kernel_map"])
def test_recipe_pipeline_rejects_non_boolean_switches(param):
    from sklearn_gabor import make_cifar10_pipeline

    with pytest.raises(ValueError, match=param):
        make_cifar10_pipeline(**{param: "yes"})
