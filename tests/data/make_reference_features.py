"""Write ``reference_features.npz``: GaborTransformer features on small images.

The file pins the features of every option of :class:`GaborTransformer` on a
few small images, so that a rewrite of the filtering code can be shown not to
change results (``tests/test_reference_features.py``). It was written by this
script at commit 8d7f306 (before the engine was separated from the
estimator); running it again overwrites the reference with the features of
the code checked out, which is only right when a change of results is meant.

Each entry ``CONFIGS[name] = (images, params)`` is fitted and transformed
on the named image set; the npz holds the images (``images/<set>``), the
parameters as JSON (``params``) and the features (``features/<name>``).

Run: ``python tests/data/make_reference_features.py``.
"""

import json
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
OUT = HERE / "reference_features.npz"


def ndi_smooth(a):
    """Cheap smoothing (2 x 2 box, periodic) so that images are not white noise."""
    return (a + np.roll(a, 1, -1) + np.roll(a, 1, -2) + np.roll(np.roll(a, 1, -1), 1, -2)) / 4


def make_images():
    """Deterministic small images of odd and even sizes, gray and 3-channel."""
    rng = np.random.RandomState(20240611)
    y, x = np.mgrid[:16, :16]
    grating = 0.5 + 0.4 * np.cos(2 * np.pi * 0.2 * (x * 0.8 + y * 0.6))
    color16 = np.clip(grating[None, :, :, None] + 0.2 * rng.rand(3, 16, 16, 3), 0, 1)
    return {
        # gray, odd x odd-ish size, float64 in [0, 1]
        "gray9x11": rng.rand(3, 9 * 11),
        # gray, smaller than most kernels
        "gray7x5": rng.rand(3, 7 * 5),
        # 3 channels, uint8, odd width
        "rgb10x13": rng.randint(0, 256, size=(5, 10 * 13 * 3)).astype(np.uint8),
        # 3 channels, float32, even size (reduced resolution, flips)
        "rgb16": color16.reshape(3, -1).astype(np.float32),
        # gray 32 x 32: strides up to 4 at reduced resolution
        "gray32": np.clip(ndi_smooth(rng.rand(2, 32, 32)), 0, 1).reshape(2, -1),
        # square gray for image_shape=None
        "gray49": rng.rand(2, 49),
    }


FREQ2 = (0.15, 0.3)
CONFIGS = {
    "default_rgb": ("rgb10x13", {"image_shape": [10, 13, 3]}),
    "default_shape_none": ("gray49", {}),
    "cascade_full_max": ("gray9x11", {"image_shape": [9, 11], "frequencies": [0.12, 0.3],
                                      "n_orientations": 3, "order": 2, "resolution": "full",
                                      "pool_stats": ["mean", "max"], "pool_grid": [2, 3]}),
    "cascade_auto_rgb": ("rgb16", {"image_shape": [16, 16, 3], "frequencies": [0.1, 0.2, 0.4],
                                   "n_orientations": 4, "order": 2, "pool_grid": [2, 2]}),
    "cascade_opponent_wrap_flip": ("rgb16", {
        "image_shape": [16, 16, 3], "frequencies": [0.1, 0.2, 0.4], "n_orientations": 4,
        "order": 2, "mode": "wrap", "color": "opponent", "compression": "sqrt",
        "contrast_normalization": True, "flip_invariant": True, "pool_grid": [2, 2]}),
    "auto_stride4": ("gray32", {"image_shape": [32, 32], "pool_grid": [2, 2]}),
    "cascade_auto_stride4": ("gray32", {"image_shape": [32, 32], "frequencies": [0.1, 0.2, 0.4],
                                        "n_orientations": 4, "order": 2, "pool_grid": [2, 2],
                                        "mode": "wrap"}),
    "flip_auto_reflect": ("rgb16", {"image_shape": [16, 16, 3], "frequencies": [0.1, 0.3],
                                    "n_orientations": 6, "flip_invariant": True,
                                    "pool_grid": [2, 2]}),
    "flip_full_constant_squared": ("rgb16", {
        "image_shape": [16, 16, 3], "frequencies": FREQ2, "n_orientations": 4,
        "flip_invariant": True, "mode": "constant", "nonlinearity": "squared",
        "resolution": "full", "pool_grid": [3, 2], "pool_stats": ["mean", "std"]}),
    "auto_squared_rgb": ("rgb16", {"image_shape": [16, 16, 3], "nonlinearity": "squared",
                                   "pool_grid": [2, 2], "dtype": "float64"}),
    "full_modulus_rgb": ("rgb16", {"image_shape": [16, 16, 3], "resolution": "full",
                                   "pool_grid": [2, 2]}),
    "dtype_none_f32": ("rgb16", {"image_shape": [16, 16, 3], "dtype": None,
                                 "frequencies": FREQ2, "n_orientations": 2}),
    "dtype_none_f64": ("gray9x11", {"image_shape": [9, 11], "dtype": None,
                                    "frequencies": FREQ2, "n_orientations": 2}),
    "threads_batches": ("rgb10x13", {"image_shape": [10, 13, 3], "frequencies": FREQ2,
                                     "n_orientations": 4, "n_jobs": 2, "batch_size": 2,
                                     "color": "per_channel"}),
    "gray_color_rgb": ("rgb10x13", {"image_shape": [10, 13, 3], "color": "gray",
                                    "frequencies": FREQ2, "n_orientations": 4}),
    "opponent_rgb_cn": ("rgb10x13", {"image_shape": [10, 13, 3], "color": "opponent",
                                     "contrast_normalization": True, "frequencies": FREQ2,
                                     "n_orientations": 4, "compression": "log1p"}),
    "explicit_envelope": ("gray9x11", {"image_shape": [9, 11], "frequencies": [0.2],
                                       "thetas": [0.0, 0.3, 1.9], "sigma_x": 1.5,
                                       "sigma_y": 3.0, "offset": 0.6, "n_stds": 2.0,
                                       "nonlinearity": "real", "pool_grid": [3, 3]}),
    "bandwidth_half": ("gray9x11", {"image_shape": [9, 11], "frequencies": FREQ2,
                                    "bandwidth": 0.5, "n_orientations": 2,
                                    "pool_grid": [1, 1], "dtype": "float64"}),
    "bandwidth_two": ("gray9x11", {"image_shape": [9, 11], "frequencies": FREQ2,
                                   "bandwidth": 2.0, "n_orientations": 2,
                                   "pool_grid": [2, 2]}),
    "uneven_cells_stats": ("gray7x5", {"image_shape": [7, 5], "frequencies": [0.25],
                                       "n_orientations": 2, "pool_grid": [3, 2],
                                       "pool_stats": ["mean", "max", "std"],
                                       "dtype": "float64"}),
    "grid_finer_than_image": ("gray7x5", {"image_shape": [7, 5], "frequencies": [0.3],
                                          "n_orientations": 2, "pool_grid": [9, 9]}),
    "scalar_freq_string_stat": ("gray9x11", {"image_shape": [9, 11], "frequencies": 0.2,
                                             "n_orientations": 3, "pool_stats": "max"}),
}
# every nonlinearity x mode on a gray image smaller than the 0.05 kernel, and
# on a larger one, at both resolutions
for nl in ("modulus", "real", "imag", "rectified", "squared"):
    for mode in ("reflect", "constant", "wrap"):
        for res in ("auto", "full"):
            CONFIGS[f"{nl}_{mode}_{res}_small"] = ("gray7x5", {
                "image_shape": [7, 5], "frequencies": [0.05, 0.3], "n_orientations": 2,
                "nonlinearity": nl, "mode": mode, "resolution": res, "pool_grid": [2, 2],
                "dtype": "float64"})
            CONFIGS[f"{nl}_{mode}_{res}_rgb"] = ("rgb16", {
                "image_shape": [16, 16, 3], "frequencies": [0.1, 0.4], "n_orientations": 3,
                "nonlinearity": nl, "mode": mode, "resolution": res, "pool_grid": [2, 2]})
for comp in ("log1p", "sqrt"):
    for cn in (False, True):
        CONFIGS[f"compress_{comp}_cn{int(cn)}"] = ("gray9x11", {
            "image_shape": [9, 11], "frequencies": FREQ2, "n_orientations": 2,
            "nonlinearity": "real", "compression": comp, "contrast_normalization": cn,
            "pool_grid": [2, 2]})


def compute(images, configs):
    from sklearn_gabor import GaborTransformer

    out = {}
    for name, (image_set, params) in configs.items():
        gt = GaborTransformer(**params)
        out[name] = gt.fit(images[image_set]).transform(images[image_set])
    return out


def main():
    images = make_images()
    feats = compute(images, CONFIGS)
    arrays = {f"images/{k}": v for k, v in images.items()}
    arrays.update({f"features/{k}": v for k, v in feats.items()})
    arrays["params"] = np.array(json.dumps(CONFIGS))
    np.savez_compressed(OUT, **arrays)
    print(f"{OUT}: {len(feats)} configurations, {OUT.stat().st_size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
