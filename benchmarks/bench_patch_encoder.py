"""Throughput of GaborPatchEncoder against the matrix-product bound of its own work.

The encoder's unavoidable work per image is one ``(n_positions, patch_dim) x
(patch_dim, n_atoms)`` float32 matrix product. This script times, side by side
in one run (medians of ``--repeats``), under the same number of BLAS threads:

* ``bound``: that product for ``--n-images`` images (random patches, the
  fitted filters), as one BLAS call per image;
* ``encoder``: ``GaborPatchEncoder.transform`` on the same number of images
  (patch extraction, normalization, product, threshold and pooling);

and prints their ratio ``bound / encoder`` (1.0 = the encoder runs at the
speed of its matrix product). ``--n-jobs`` threads encode batches in
parallel; the bound then runs the products in as many threads.

Usage::

    python benchmarks/bench_patch_encoder.py [--n-images 200] [--repeats 3] [--n-jobs 1]
"""

import argparse
import statistics
import sys
import time

import numpy as np
from joblib import Parallel, delayed
from threadpoolctl import threadpool_limits


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-images", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument("--small", action="store_true",
                        help="a reduced dictionary (1 frequency, 4 orientations, 1 width)")
    args = parser.parse_args(argv)

    from sklearn_gabor import GaborPatchEncoder

    rng = np.random.RandomState(0)
    X = rng.randint(0, 256, size=(args.n_images, 32 * 32 * 3)).astype(np.uint8)
    kw = {"frequencies": (0.3,), "n_orientations": 4, "sigmas": (1.5,)} if args.small else {}
    enc = GaborPatchEncoder(image_shape=(32, 32, 3), n_jobs=args.n_jobs, random_state=0,
                            n_whitening_patches=20_000, **kw).fit(X)
    F = enc.filters_
    n_pos = (32 - enc.patch_shape_[0] + 1) * (32 - enc.patch_shape_[1] + 1)
    P = rng.standard_normal((n_pos, F.shape[0])).astype(np.float32)

    def products(n):
        Y = np.empty((n_pos, F.shape[1]), dtype=np.float32)
        for _ in range(n):
            np.matmul(P, F, out=Y)

    def bound():
        with threadpool_limits(limits=1, user_api="blas"):
            if args.n_jobs == 1:
                products(args.n_images)
            else:
                share = [len(c) for c in np.array_split(np.arange(args.n_images), args.n_jobs)]
                Parallel(n_jobs=args.n_jobs, prefer="threads")(delayed(products)(s) for s in share)

    times = {"bound": [], "encoder": []}
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        bound()
        times["bound"].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        enc.transform(X)
        times["encoder"].append(time.perf_counter() - t0)
    tb, te = statistics.median(times["bound"]), statistics.median(times["encoder"])
    flops = 2.0 * n_pos * F.shape[0] * F.shape[1]
    print(f"{F.shape[1]} atoms, {n_pos} positions x {F.shape[0]} values per image, "
          f"{args.n_images} images, n_jobs={args.n_jobs}")
    print(f"bound   (matrix product): {args.n_images / tb:8.1f} images/s "
          f"({flops * args.n_images / tb / 1e9:.1f} GFLOP/s)")
    print(f"encoder (transform)     : {args.n_images / te:8.1f} images/s")
    print(f"RESULT ratio={tb / te:.2f} bound_images_per_s={args.n_images / tb:.1f} "
          f"encoder_images_per_s={args.n_images / te:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
