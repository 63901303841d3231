"""Speed and peak memory of GaborTransformer on CIFAR-10.

Same images, same bank (4 frequencies x 8 orientations, 3 channels, 4 x 4
mean pooling, modulus, 'reflect' boundaries) for:

* ``GaborTransformer`` (this package);
* a loop of ``skimage.filters.gabor`` over the bank (on a small subset);
* a straightforward batched-FFT reference written here: pad every image by
  the largest kernel half-size (``np.pad`` 'symmetric' = ndimage 'reflect'),
  one FFT per image channel at the padded size, multiply by every kernel's
  FFT, inverse FFT at full resolution, crop, modulus, mean-pool.

Peak memory (tracemalloc, in a fresh subprocess per size) of
``GaborTransformer.transform`` for 2,000 and 20,000 images.

Run: ``SKLEARN_GABOR_DATA=/path/to/folder python benchmarks/bench_transform.py``
(the folder holds ``cifar-10-batches-py/``). Options: ``--n-images``
(default 2000), ``--n-skimage`` (default 5; the loop takes ~10 s per image), ``--n-jobs``.
"""

import argparse
import subprocess
import sys
import time

import numpy as np
import scipy.fft

FREQUENCIES = (0.05, 0.1, 0.2, 0.4)
N_ORIENT = 8
SHAPE = (32, 32, 3)
GRID = (4, 4)


def load_cifar(n):
    """First ``n`` CIFAR-10 training images as uint8 rows (n, 3072), HWC order."""
    from sklearn_gabor.datasets import fetch_cifar10

    try:
        data = fetch_cifar10(download_if_missing=False).data
    except OSError as exc:
        sys.exit(f"bench_transform: {exc}")
    if len(data) < n:
        sys.exit(f"bench_transform: only {len(data)} CIFAR images, {n} requested.")
    return np.ascontiguousarray(data[:n])


def make_transformer(n_jobs=None):
    from sklearn_gabor import GaborTransformer

    return GaborTransformer(
        image_shape=SHAPE,
        frequencies=FREQUENCIES,
        n_orientations=N_ORIENT,
        pool_grid=GRID,
        pool_stats=("mean",),
        nonlinearity="modulus",
        mode="reflect",
        n_jobs=n_jobs,
    )


def mean_pool(maps, grid):
    *lead, H, W = maps.shape
    gh, gw = grid
    return maps.reshape(*lead, gh, H // gh, gw, W // gw).mean(axis=(-3, -1))


def skimage_loop(X, kernels_params):
    from skimage.filters import gabor

    H, W, C = SHAPE
    out = []
    for row in X:
        img = row.reshape(H, W, C).astype(np.float32) / 255
        feats = []
        for prm in kernels_params:
            for c in range(C):
                re, im = gabor(
                    img[:, :, c],
                    prm["frequency"],
                    theta=prm["theta"],
                    bandwidth=prm["bandwidth"],
                    mode="reflect",
                )
                feats.append(mean_pool(np.hypot(re, im), GRID).ravel())
        out.append(np.concatenate(feats))
    return np.asarray(out)


def fft_reference(X, kernels, batch_size=256, n_jobs=None):
    """Straightforward batched FFT filtering at full resolution."""
    H, W, C = SHAPE
    p = max(max(k.shape) for k in kernels) // 2
    L = scipy.fft.next_fast_len(H + 2 * p)
    kf = np.zeros((len(kernels), L, L), dtype=np.complex64)
    for i, k in enumerate(kernels):
        kh, kw = k.shape
        buf = np.zeros((L, L), dtype=np.complex128)
        buf[:kh, :kw] = k  # kernel centre lands at (kh // 2, kw // 2)
        kf[i] = scipy.fft.fft2(buf)
    out = np.empty((len(X), len(kernels), C, GRID[0], GRID[1]), dtype=np.float32)
    for s in range(0, len(X), batch_size):
        img = X[s : s + batch_size].reshape(-1, H, W, C).astype(np.float32) / 255
        img = img.transpose(0, 3, 1, 2)
        pad = np.pad(img, ((0, 0), (0, 0), (p, L - H - p), (p, L - W - p)), "symmetric")
        spec = scipy.fft.fft2(pad, axes=(-2, -1), workers=n_jobs)
        for i in range(len(kernels)):
            r = scipy.fft.ifft2(spec * kf[i], axes=(-2, -1), workers=n_jobs)
            kh, kw = kernels[i].shape
            oy, ox = p + kh // 2, p + kw // 2  # undo padding + kernel centre
            resp = np.abs(r[:, :, oy : oy + H, ox : ox + W])
            out[s : s + batch_size, i] = mean_pool(resp, GRID)
    return out.reshape(len(X), -1)


def _timed(fn, repeat=1):
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        res = fn()
        best = min(best, time.perf_counter() - t0)
    return best, res


def peak_memory_child(n):
    """Run in a subprocess: peak traced memory of transform on n images."""
    import tracemalloc

    X = load_cifar(min(n, 50000))
    if len(X) < n:
        X = np.concatenate([X] * (-(-n // len(X))))[:n]
    gt = make_transformer().fit(X[:10])
    gt.transform(X[:10])
    tracemalloc.start()
    F = gt.transform(X)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"{peak} {F.nbytes}")


def peak_memory(n):
    res = subprocess.run(
        [sys.executable, __file__, "--memory-child", str(n)],
        capture_output=True,
        text=True,
        check=False,
    )
    if res.returncode:
        sys.exit(f"bench_transform: memory run for {n} images failed:\n{res.stderr}")
    peak, nbytes = map(int, res.stdout.split()[-2:])
    return peak, nbytes


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-images", type=int, default=2000)
    ap.add_argument("--n-skimage", type=int, default=5)
    ap.add_argument("--n-jobs", type=int, default=None)
    ap.add_argument("--memory-child", type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.memory_child is not None:
        peak_memory_child(args.memory_child)
        return

    X = load_cifar(args.n_images)
    gt = make_transformer(args.n_jobs).fit(X)
    print(
        f"bank: {len(gt.kernels_)} filters (frequencies {FREQUENCIES} x {N_ORIENT} "
        f"orientations), image {SHAPE}, {GRID[0]}x{GRID[1]} mean pooling, "
        f"{gt.transform(X[:2]).shape[1]} features; fft_shape_={gt.fft_shape_}, "
        f"strides_ per frequency={gt.strides_[::N_ORIENT]}"
    )
    t_gt, F_gt = _timed(lambda: gt.transform(X), repeat=2)
    t_ref, F_ref = _timed(lambda: fft_reference(X, gt.kernels_, n_jobs=args.n_jobs))
    Xs = X[: args.n_skimage]
    t_sk, F_sk = _timed(lambda: skimage_loop(Xs, gt.kernel_params_))

    # all three compute the same features (filter, channel, cell order)
    err_ref = np.abs(F_ref - F_gt).max() / np.abs(F_ref).max()
    err_sk = np.abs(F_sk - F_gt[: len(Xs)]).max() / np.abs(F_sk).max()
    rate_gt = len(X) / t_gt
    rate_ref = len(X) / t_ref
    rate_sk = len(Xs) / t_sk
    print(f"GaborTransformer          : {rate_gt:10.1f} images/s ({len(X)} images)")
    print(f"FFT reference (full res)  : {rate_ref:10.1f} images/s ({len(X)} images)")
    print(f"skimage.filters.gabor loop: {rate_sk:10.1f} images/s ({len(Xs)} images)")
    print(
        f"speed-up vs skimage loop: {rate_gt / rate_sk:.0f}x (target >= 100x); "
        f"vs FFT reference: {rate_gt / rate_ref:.2f}x (target >= 3x)"
    )
    print(
        f"max |difference| / max |feature|: vs FFT reference {err_ref:.2e}, "
        f"vs skimage {err_sk:.2e}"
    )
    p2, o2 = peak_memory(2000)
    p20, o20 = peak_memory(20000)
    mib = 2**20
    print(f"peak memory  2,000 images: {p2 / mib:8.1f} MiB (output {o2 / mib:.1f} MiB)")
    print(f"peak memory 20,000 images: {p20 / mib:8.1f} MiB (output {o20 / mib:.1f} MiB)")
    bound = 1.3 * (o20 + p2)
    print(
        f"20,000-image peak / (output + 2,000-image peak) = {p20 / (o20 + p2):.2f} "
        f"(target <= 1.3; bound {bound / mib:.1f} MiB)"
    )


if __name__ == "__main__":
    main()
