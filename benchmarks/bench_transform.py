"""Speed of GaborTransformer against a batched-FFT reference, scikit-image and kymatio.

Everything is measured in one run, on the same images (CIFAR-10 training
images when ``SKLEARN_GABOR_DATA`` names a folder holding
``cifar-10-batches-py/``, otherwise synthetic smooth random images, which the
output says).

Row 1, the plain bank: 4 frequencies (0.1, 0.2, 0.3, 0.45) x 8 orientations
(``skimage.filters.gabor_kernel``), the 3 colour channels, modulus, 4 x 4
mean pooling, 'reflect' boundaries:

* ``GaborTransformer`` (this package);
* the straightforward batched-FFT reference written here: every image padded
  by the largest kernel half-size (``np.pad`` 'symmetric', which is ndimage's
  'reflect'), one complex64 ``scipy.fft.fft2`` per image channel, every
  filter's product inverse transformed at full resolution, ``workers=-1``,
  modulus, mean pooling;
* a loop of ``skimage.filters.gabor`` over the bank (on a few images; the
  rate is extrapolated);
* kymatio's ``Scattering2D(J=2, L=8, max_order=2)`` (NumPy frontend) on the
  3 channels, when kymatio is installed.

The features of the first three are the same quantities (filter, channel,
cell order): the script prints their largest difference relative to the
largest feature.

Row 2, the documented recipe (``benchmarks/bench_accuracy.py``: the first
order of 4 frequencies and the second order of the upper 3 on the opponent
channels, mirror-averaged) against kymatio order 2, per image, with the time
extrapolated to the 50,000 CIFAR-10 training images.

Peak memory (tracemalloc, fresh subprocess per size) of the plain bank's
``transform`` for 2,000 and 20,000 images with ``--memory``.

Run: ``SKLEARN_GABOR_DATA=/path/to/folder python benchmarks/bench_transform.py``
Options: ``--n-images`` (2000), ``--n-recipe`` (2000), ``--n-skimage`` (5),
``--n-kymatio`` (200), ``--n-jobs`` (-1), ``--repeat`` (3, medians), ``--memory``.
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import scipy.fft

FREQUENCIES = (0.1, 0.2, 0.3, 0.45)
N_ORIENT = 8
SHAPE = (32, 32, 3)
GRID = (4, 4)


def load_images(n):
    """``n`` uint8 image rows (n, 3072), HWC order, and where they come from."""
    if os.environ.get("SKLEARN_GABOR_DATA"):
        from sklearn_gabor.datasets import fetch_cifar10

        data = fetch_cifar10(data_home=os.environ["SKLEARN_GABOR_DATA"], subset="train",
                             download_if_missing=False)
        X = data.data[data.batch != "data_batch_5"]
        if len(X) < n:
            X = np.concatenate([X] * (-(-n // len(X))))
        return np.ascontiguousarray(X[:n]), "CIFAR-10 training images"
    from scipy.ndimage import gaussian_filter

    rng = np.random.RandomState(0)
    noise = rng.rand(n, *SHAPE)
    smooth = gaussian_filter(noise, sigma=(0, 1.5, 1.5, 0))
    smooth = (smooth - smooth.min()) / np.ptp(smooth)
    return (255 * smooth).astype(np.uint8).reshape(n, -1), "synthetic images (no data)"


def plain_transformer(n_jobs):
    from sklearn_gabor import GaborTransformer

    return GaborTransformer(
        image_shape=SHAPE, frequencies=FREQUENCIES, n_orientations=N_ORIENT, pool_grid=GRID,
        pool_stats=("mean",), nonlinearity="modulus", mode="reflect", n_jobs=n_jobs,
    )


def skimage_kernels():
    from skimage.filters import gabor_kernel

    thetas = np.arange(N_ORIENT) * np.pi / N_ORIENT
    return [gabor_kernel(f, theta=t) for f in FREQUENCIES for t in thetas]


def mean_pool(maps, grid):
    *lead, H, W = maps.shape
    gh, gw = grid
    return maps.reshape(*lead, gh, H // gh, gw, W // gw).mean(axis=(-3, -1))


def skimage_loop(X):
    from skimage.filters import gabor

    H, W, C = SHAPE
    thetas = np.arange(N_ORIENT) * np.pi / N_ORIENT
    out = []
    for row in X:
        img = row.reshape(H, W, C).astype(np.float32) / 255
        feats = []
        for f in FREQUENCIES:
            for t in thetas:
                for c in range(C):
                    re, im = gabor(img[:, :, c], f, theta=t, mode="reflect")
                    feats.append(mean_pool(np.hypot(re, im), GRID).ravel())
        out.append(np.concatenate(feats))
    return np.asarray(out)


def fft_reference(X, kernels, batch_size=256, workers=-1):
    """Straightforward batched FFT filtering at full resolution (complex64)."""
    H, W, C = SHAPE
    p = max(max(k.shape) for k in kernels) // 2
    Lh, Lw = scipy.fft.next_fast_len(H + 2 * p), scipy.fft.next_fast_len(W + 2 * p)
    kf = np.zeros((len(kernels), Lh, Lw), dtype=np.complex64)
    for i, k in enumerate(kernels):
        buf = np.zeros((Lh, Lw), dtype=np.complex128)
        buf[: k.shape[0], : k.shape[1]] = k  # kernel centre lands at (kh // 2, kw // 2)
        kf[i] = scipy.fft.fft2(buf)
    out = np.empty((len(X), len(kernels), C, GRID[0], GRID[1]), dtype=np.float32)
    for s in range(0, len(X), batch_size):
        img = X[s : s + batch_size].reshape(-1, H, W, C).astype(np.float32) / 255
        pad = np.pad(img.transpose(0, 3, 1, 2), ((0, 0), (0, 0), (p, Lh - H - p), (p, Lw - W - p)),
                     "symmetric")
        spec = scipy.fft.fft2(pad.astype(np.complex64), axes=(-2, -1), workers=workers)
        for i, k in enumerate(kernels):
            r = scipy.fft.ifft2(spec * kf[i], axes=(-2, -1), workers=workers, overwrite_x=True)
            oy, ox = p + k.shape[0] // 2, p + k.shape[1] // 2  # padding + kernel centre
            out[s : s + batch_size, i] = mean_pool(np.abs(r[:, :, oy : oy + H, ox : ox + W]), GRID)
    return out.reshape(len(X), -1)


def kymatio_scattering():
    """kymatio's Scattering2D(J=2, L=8, max_order=2) NumPy frontend, or None."""
    try:
        import scipy.special

        if not hasattr(scipy.special, "sph_harm"):  # removed in SciPy 1.17; unused in 2-D
            scipy.special.sph_harm = lambda *a, **k: None
        from kymatio.numpy import Scattering2D
    except ImportError:
        return None
    return Scattering2D(J=2, shape=SHAPE[:2], L=8, max_order=2)


def kymatio_features(scattering, X, batch_size=256):
    H, W, C = SHAPE
    out = []
    for s in range(0, len(X), batch_size):
        img = X[s : s + batch_size].reshape(-1, H, W, C).astype(np.float32) / 255
        out.append(scattering(np.ascontiguousarray(img.transpose(0, 3, 1, 2))))
    return np.concatenate(out)


def recipe_transformer(n_jobs):
    sys.path.insert(0, str(Path(__file__).parent))
    try:
        from bench_accuracy import recipe_transformer as recipe
    finally:
        sys.path.pop(0)
    return recipe(n_jobs=n_jobs)


def _median_time(fn, repeat):
    times, res = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        res = fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), res


def _rel(a, b):
    return float(np.abs(a - b).max() / np.abs(b).max())


def peak_memory_child(n):
    """Run in a subprocess: peak traced memory of transform on n images."""
    import tracemalloc

    X, _ = load_images(n)
    gt = plain_transformer(None).fit(X[:10])
    gt.transform(X[:10])
    tracemalloc.start()
    F = gt.transform(X)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"{peak} {F.nbytes}")


def peak_memory(n):
    res = subprocess.run([sys.executable, __file__, "--memory-child", str(n)],
                         capture_output=True, text=True, check=False)
    if res.returncode:
        sys.exit(f"bench_transform: memory run for {n} images failed:\n{res.stderr}")
    return tuple(map(int, res.stdout.split()[-2:]))


def plain_row(args, X):
    n_jobs = args.n_jobs
    gt = plain_transformer(n_jobs).fit(X[:10])
    print(f"row 1, plain bank: {len(gt.kernels_)} filters (frequencies {FREQUENCIES} x "
          f"{N_ORIENT} orientations), {SHAPE} images, RGB, modulus, {GRID[0]}x{GRID[1]} mean "
          f"pooling, 'reflect', {gt.transform(X[:2]).shape[1]} features; strides_ per "
          f"frequency {gt.strides_[::N_ORIENT]}; n_jobs={n_jobs}")
    kernels = skimage_kernels()
    ky = kymatio_scattering()
    t_gt, F_gt = _median_time(lambda: gt.transform(X), args.repeat)
    t_ref, F_ref = _median_time(lambda: fft_reference(X, kernels, workers=n_jobs), args.repeat)
    Xs = X[: args.n_skimage]
    t_sk, F_sk = _median_time(lambda: skimage_loop(Xs), 1)
    rows = [("GaborTransformer", len(X) / t_gt, len(X)),
            ("FFT reference (full res)", len(X) / t_ref, len(X)),
            ("skimage.filters.gabor loop", len(Xs) / t_sk, len(Xs))]
    if ky is not None:
        Xk = X[: args.n_kymatio]
        t_ky, _ = _median_time(lambda: kymatio_features(ky, Xk), args.repeat)
        rows.append(("kymatio Scattering2D J=2 L=8 order 2", len(Xk) / t_ky, len(Xk)))
    for name, rate, n in rows:
        print(f"  {name:38s}: {rate:10.1f} images/s ({n} images)")
    print("  GaborTransformer speed-up: " + ", ".join(
        f"{rows[0][1] / rate:.2f}x vs {name}" for name, rate, _ in rows[1:]))
    print(f"  max |difference| / max |feature|: GaborTransformer vs FFT reference "
          f"{_rel(F_gt, F_ref):.2e}, vs skimage {_rel(F_gt[: len(Xs)], F_sk):.2e}; "
          f"FFT reference vs skimage {_rel(F_ref[: len(Xs)], F_sk):.2e}")
    if ky is None:
        print("  kymatio not installed (pip install kymatio==0.3.0): no kymatio figure")
    return ky


def recipe_row(args, X, ky):
    n = min(args.n_recipe, len(X))
    Xr = X[:n]
    union = recipe_transformer(args.n_jobs).fit(Xr[:10])
    t_re, F_re = _median_time(lambda: union.transform(Xr), args.repeat)
    print(f"row 2, the documented recipe (bench_accuracy.recipe_transformer, "
          f"n_jobs={args.n_jobs}): {F_re.shape[1]} features")
    print(f"  {'recipe (first + second order)':38s}: {n / t_re:10.1f} images/s ({n} images); "
          f"50,000 images: {50000 * t_re / n:.1f} s (extrapolated)")
    if ky is not None:
        Xk = X[: args.n_kymatio]
        t_ky, F_ky = _median_time(lambda: kymatio_features(ky, Xk), args.repeat)
        rate_ky = len(Xk) / t_ky
        print(f"  {'kymatio order 2 (' + str(F_ky[0].size) + ' features)':38s}: "
              f"{rate_ky:10.1f} images/s ({len(Xk)} images); 50,000 images: "
              f"{50000 / rate_ky:.1f} s (extrapolated)")
        print(f"  recipe speed-up vs kymatio: {(n / t_re) / rate_ky:.2f}x per image")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-images", type=int, default=2000)
    ap.add_argument("--n-recipe", type=int, default=2000)
    ap.add_argument("--n-skimage", type=int, default=5)
    ap.add_argument("--n-kymatio", type=int, default=200)
    ap.add_argument("--n-jobs", type=int, default=-1)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--memory", action="store_true")
    ap.add_argument("--skip-plain", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--memory-child", type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.memory_child is not None:
        peak_memory_child(args.memory_child)
        return
    X, source = load_images(max(args.n_images, args.n_recipe))
    print(f"images: {source}; {os.cpu_count()} CPUs")
    ky = kymatio_scattering() if args.skip_plain else plain_row(args, X[: args.n_images])
    recipe_row(args, X, ky)
    if args.memory:
        p2, o2 = peak_memory(2000)
        p20, o20 = peak_memory(20000)
        mib = 2**20
        print(f"peak memory  2,000 images: {p2 / mib:8.1f} MiB (output {o2 / mib:.1f} MiB)")
        print(f"peak memory 20,000 images: {p20 / mib:8.1f} MiB (output {o20 / mib:.1f} MiB)")
        print(f"20,000-image peak - output: {(p20 - o20) / mib:.1f} MiB; 2,000-image: "
              f"{(p2 - o2) / mib:.1f} MiB")


if __name__ == "__main__":
    main()
