"""Out-of-core training through Dask: memory of one worker and wall time.

Trains ``Incremental(GDSoftmaxClassifier)`` on Gabor features of a dask
array of images that is never held in memory as a whole: each chunk of
images is *generated on a worker* (``make_gratings`` with the chunk index as
seed), turned into features by ``GaborTransformer.transform`` (through
``dask.array.map_blocks``), standardized, and handed to
``GDSoftmaxClassifier.partial_fit``; ``dask_ml.wrappers.Incremental`` chains
the ``partial_fit`` calls one chunk after the other.

Two measurements, on a ``LocalCluster`` of worker processes with one thread
each:

1. the peak resident memory (RSS) of each worker for N, 2N and 4N images
   (2 workers): it should stay flat, because a worker only ever holds a few
   chunks;
2. the wall time of the same pipeline on N images with 1 and with 2 workers
   (and, for reference, in memory with NumPy, without Dask).

Run::

    python benchmarks/bench_dask.py              # N = 8 chunks of 1000 images
    python benchmarks/bench_dask.py --chunk 2000 --n-chunks 16

Needs the ``dask`` extra: ``pip install "sklearn-gabor[dask]"``.
"""

import argparse
import ctypes
import gc
import logging
import os
import platform
import sys
import threading
import time

import numpy as np

try:
    import dask
    import dask.array as da
    from dask.distributed import Client, LocalCluster
    from dask_ml.wrappers import Incremental
except ImportError:  # pragma: no cover - optional dependency
    print("bench_dask.py needs dask: pip install 'sklearn-gabor[dask]'")
    sys.exit(0)

from sklearn.preprocessing import StandardScaler

from sklearn_gabor import GaborTransformer, GDSoftmaxClassifier
from sklearn_gabor.datasets import make_gratings

N_CLASSES = 4
MiB = 2**20


# ----------------------------------------------------------------- the data
def gratings_chunk(index, chunk, side):
    """One chunk of images, made where it is needed (seeded by its index)."""
    return make_gratings(
        chunk, (side, side), N_CLASSES, noise=1.0, random_state=1000 + index
    )


def lazy_gratings(n_chunks, chunk, side):
    """A dask array of ``n_chunks * chunk`` images and their labels.

    Nothing is computed here: each chunk is one task that generates its
    images on the worker that runs it (in real use: reads them from disk).
    """
    X_blocks, y_blocks = [], []
    for i in range(n_chunks):
        Xy = dask.delayed(gratings_chunk, nout=2, pure=True)(i, chunk, side)
        X_blocks.append(da.from_delayed(Xy[0], (chunk, side * side), np.float64))
        y_blocks.append(da.from_delayed(Xy[1], (chunk,), np.int64))
    return da.concatenate(X_blocks), da.concatenate(y_blocks)


def blockwise_transform(transformer, dX):
    """``transformer.transform`` on each row-block, with the right shape."""
    probe = transformer.transform(np.zeros((1, dX.shape[1]), dtype=dX.dtype))
    return dX.map_blocks(
        transformer.transform,
        chunks=(dX.chunks[0], (probe.shape[1],)),
        dtype=probe.dtype,
        meta=probe[:0],
    )


def make_models(chunk, side):
    """Gabor bank and a scaler fitted on one chunk (chunk index -1)."""
    gabor = GaborTransformer(
        image_shape=(side, side),
        frequencies=(0.1, 0.25),
        n_orientations=4,
        pool_grid=(2, 2),
    )
    X0, _ = gratings_chunk(-1, chunk, side)
    scaler = StandardScaler().fit(gabor.fit_transform(X0))
    return gabor, scaler


def classifier():
    return GDSoftmaxClassifier(solver="sgd", learning_rate=0.05, random_state=0)


def train_dask(n_chunks, chunk, side, gabor, scaler):
    dX, dy = lazy_gratings(n_chunks, chunk, side)
    dF = blockwise_transform(gabor, dX).map_blocks(scaler.transform, dtype=np.float32)
    inc = Incremental(classifier(), shuffle_blocks=False)
    inc.fit(dF, dy, classes=np.arange(N_CLASSES))
    return inc.estimator_


def train_numpy(n_chunks, chunk, side, gabor, scaler):
    """The in-memory reference: all images at once, then the same chunks."""
    parts = [gratings_chunk(i, chunk, side) for i in range(n_chunks)]
    X = np.concatenate([p[0] for p in parts])
    y = np.concatenate([p[1] for p in parts])
    del parts
    S = scaler.transform(gabor.transform(X))
    clf = classifier()
    for start in range(0, len(X), chunk):
        clf.partial_fit(
            S[start : start + chunk], y[start : start + chunk], classes=np.arange(N_CLASSES)
        )
    return clf


# ------------------------------------------------- memory of each worker
def _malloc_trim():
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except OSError:  # not glibc
        pass


def _start_sampler(dask_worker, interval=0.005):
    import psutil

    proc = psutil.Process()
    state = {"base": proc.memory_info().rss, "stop": threading.Event()}
    state["peak"] = state["base"]

    def sample():
        while not state["stop"].wait(interval):
            state["peak"] = max(state["peak"], proc.memory_info().rss)

    state["thread"] = threading.Thread(target=sample, daemon=True)
    state["thread"].start()
    dask_worker._bench_rss = state


def _stop_sampler(dask_worker):
    state = dask_worker._bench_rss
    state["stop"].set()
    state["thread"].join()
    return state["base"], state["peak"]


def measure(client, fn, *args):
    """Run ``fn(*args)``; return (seconds, {worker: (base RSS, peak RSS)})."""
    client.run(_malloc_trim)
    client.run(_start_sampler)
    t0 = time.perf_counter()
    result = fn(*args)
    seconds = time.perf_counter() - t0
    rss = client.run(_stop_sampler)
    return seconds, rss, result


def start_cluster(n_workers):
    cluster = LocalCluster(
        n_workers=n_workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    return cluster, Client(cluster)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunk", type=int, default=1000, help="images per chunk")
    parser.add_argument("--n-chunks", type=int, default=8, help="chunks in N images")
    parser.add_argument("--side", type=int, default=32, help="images are side x side")
    parser.add_argument("--repeat", type=int, default=3, help="wall time: best of R runs")
    args = parser.parse_args(argv)
    chunk, side, n = args.chunk, args.side, args.n_chunks
    image_mib = chunk * side * side * 8 / MiB

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"# load average at the start (1, 5, 15 min): {load}")
    print(
        f"# {platform.node()}: {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, dask {dask.__version__}"
    )
    print(
        f"# chunks of {chunk} images of {side}x{side} float64 "
        f"({image_mib:.1f} MiB of images per chunk); N = {n} chunks = {n * chunk} images"
    )
    gabor, scaler = make_models(chunk, side)

    # ------------------------------------------------ wall time, 1 worker
    timings = []
    best = np.inf
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        train_numpy(n, chunk, side, gabor, scaler)
        best = min(best, time.perf_counter() - t0)
    timings.append(("NumPy, in memory (no Dask)", best))

    for n_workers in (1, 2):
        cluster, client = start_cluster(n_workers)
        try:
            train_dask(2, chunk, side, gabor, scaler)  # warm-up: imports on workers
            best = min(
                measure(client, train_dask, n, chunk, side, gabor, scaler)[0]
                for _ in range(args.repeat)
            )
            timings.append((f"Dask, {n_workers} worker(s) x 1 thread", best))
            if n_workers == 2:
                memory = []
                for mult in (1, 2, 4):
                    seconds, rss, clf = measure(
                        client, train_dask, mult * n, chunk, side, gabor, scaler
                    )
                    memory.append((mult, seconds, rss, clf))
        finally:
            client.close()
            cluster.close()

    print()
    print("Peak memory (RSS) of each worker process, 2 workers x 1 thread")
    print(
        f"{'images':>8} {'all images':>11} {'worker peak RSS (MiB)':>24} "
        f"{'above idle (MiB)':>17} {'wall (s)':>9} {'chunks seen':>12}"
    )
    for mult, seconds, rss, clf in memory:
        n_images = mult * n * chunk
        peaks = [peak / MiB for _, peak in rss.values()]
        above = [(peak - base) / MiB for base, peak in rss.values()]
        print(
            f"{n_images:>8} {n_images * side * side * 8 / MiB:>7.0f} MiB "
            f"{' / '.join(f'{p:.0f}' for p in peaks):>24} "
            f"{' / '.join(f'{a:.0f}' for a in above):>17} {seconds:>9.2f} "
            f"{clf.n_iter_:>12}"
        )
    print()
    print(
        f"Wall time for N = {n * chunk} images (generate, Gabor transform, train), "
        f"best of {args.repeat}"
    )
    print(f"{'setup':<34} {'wall (s)':>9}")
    for name, seconds in timings:
        print(f"{name:<34} {seconds:>9.2f}")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"# load average at the end (1, 5, 15 min): {load} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
