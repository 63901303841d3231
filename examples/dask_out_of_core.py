"""
==============================================
Training on more images than fit in memory
==============================================

When the images no longer fit in the memory of one machine, keep them in a
chunked `Dask <https://www.dask.org>`_ array and let a Dask cluster stream
the chunks through the two estimators of sklearn-gabor:

* :class:`~sklearn_gabor.GaborTransformer` computes the features of each image
  on its own, so its ``transform`` runs chunk by chunk with
  ``dask.array.map_blocks``;
* :class:`~sklearn_gabor.GDSoftmaxClassifier` learns from one chunk at a time
  with ``partial_fit``, which ``dask_ml.wrappers.Incremental`` calls on each
  chunk in turn.

A worker therefore only ever holds a few chunks: its memory does not grow
with the number of images. This example checks that on a small
``LocalCluster`` (two worker processes with one thread each), for N, 2N and
4N images, and compares the wall time with one and with two workers.

It needs the ``dask`` extra (``pip install "sklearn-gabor[dask]"``) and
exits with a message when Dask is not installed. The worker processes are
started with ``spawn``, so, as any script that starts a ``LocalCluster``,
the work runs under ``if __name__ == "__main__":``.
"""

# %%
# Imports; the example stops here when Dask is missing.
import logging
import threading
import time

import numpy as np

try:
    import dask
    import dask.array as da
    from dask.distributed import Client, LocalCluster
    from dask_ml.preprocessing import StandardScaler
    from dask_ml.wrappers import Incremental
except ImportError:
    print(
        "This example needs Dask: pip install 'sklearn-gabor[dask]' "
        "(dask[array,distributed] and dask-ml). Skipping it."
    )
    raise SystemExit(0)

from sklearn_gabor import GaborTransformer, GDSoftmaxClassifier
from sklearn_gabor.datasets import make_gratings

CHUNK = 250  # images per chunk
SIDE = 32  # images are SIDE x SIDE, gray
N_CHUNKS = 4  # N = 4 chunks = 1000 images
CLASSES = np.arange(4)

# %%
# A dask array of images that is never in memory as a whole
# ------------------------------------------------------------
#
# Each chunk is one task that *makes* its images on the worker that runs it;
# with real data the task would read one file (``dask.array.from_zarr``,
# ``dask.array.from_delayed`` over a list of files, ...). Nothing is computed
# when the array is defined.


def load_chunk(index):
    """Images and labels of chunk ``index`` (here: synthetic gratings)."""
    return make_gratings(CHUNK, (SIDE, SIDE), len(CLASSES), noise=1.0, random_state=index)


def image_array(n_chunks, first=0):
    X_parts, y_parts = [], []
    for i in range(first, first + n_chunks):
        Xy = dask.delayed(load_chunk, nout=2, pure=True)(i)
        X_parts.append(da.from_delayed(Xy[0], (CHUNK, SIDE * SIDE), np.float64))
        y_parts.append(da.from_delayed(Xy[1], (CHUNK,), np.int64))
    return da.concatenate(X_parts), da.concatenate(y_parts)


# %%
# Gabor features, chunk by chunk
# ------------------------------
#
# :class:`~sklearn_gabor.GaborTransformer` learns nothing from the data
# (``fit`` only builds the filter bank for the image shape), so it is fitted
# on one image and its ``transform`` is mapped over the row-blocks. The
# output has other columns than the input, so ``map_blocks`` is told the
# output ``chunks`` and ``meta``, read from the transform of one dummy row.
# (``dask_ml.wrappers.ParallelPostFit(gabor).transform(dX)`` computes the
# same blocks, but its lazy result reports the *input's* number of columns,
# which confuses the steps after it.)

gabor = GaborTransformer(
    image_shape=(SIDE, SIDE), frequencies=(0.1, 0.25), n_orientations=4, pool_grid=(2, 2)
).fit(np.zeros((1, SIDE * SIDE)))


def gabor_features(dX):
    probe = gabor.transform(np.zeros((1, dX.shape[1]), dtype=dX.dtype))
    return dX.map_blocks(
        gabor.transform,
        chunks=(dX.chunks[0], (probe.shape[1],)),
        dtype=probe.dtype,
        meta=probe[:0],
    )


# %%
# Training, one chunk at a time
# -----------------------------
#
# The features are standardized first, with statistics that
# ``dask_ml.preprocessing.StandardScaler`` computes by a blockwise reduction
# (one pass over the images, done once below). ``Incremental`` then calls
# ``partial_fit`` once per chunk, in a chain of tasks (the model travels from
# one task to the next); each call is one epoch of mini-batch SGD on the
# chunk, so ``n_epochs`` passes make ``n_epochs * n_chunks`` calls.


def fit_scaler(n_chunks):
    dX, _ = image_array(n_chunks)
    return StandardScaler().fit(gabor_features(dX))


def train(n_chunks, scaler, n_epochs=1):
    dX, dy = image_array(n_chunks)
    dS = scaler.transform(gabor_features(dX))
    inc = Incremental(
        GDSoftmaxClassifier(solver="sgd", learning_rate=0.05, random_state=0),
        scoring="accuracy",
        shuffle_blocks=False,
    )
    for _ in range(n_epochs):
        inc.partial_fit(dS, dy, classes=CLASSES)
    return inc


# %%
# Memory of one worker
# --------------------
#
# A thread on each worker samples the resident memory of its process
# (``psutil``) every 5 ms while the training runs.


def _start_sampler(dask_worker):
    import psutil

    proc = psutil.Process()
    state = {"stop": threading.Event(), "base": proc.memory_info().rss}
    state["peak"] = state["base"]

    def sample():
        while not state["stop"].wait(0.005):
            state["peak"] = max(state["peak"], proc.memory_info().rss)

    state["thread"] = threading.Thread(target=sample, daemon=True)
    state["thread"].start()
    dask_worker._example_rss = state


def _stop_sampler(dask_worker):
    state = dask_worker._example_rss
    state["stop"].set()
    state["thread"].join()
    return state["base"], state["peak"]


def timed_training(client, n_chunks, scaler):
    client.run(_start_sampler)
    t0 = time.perf_counter()
    inc = train(n_chunks, scaler)
    seconds = time.perf_counter() - t0
    rss = client.run(_stop_sampler)
    return inc, seconds, rss


# %%
# Run it
# ------
#
# First with one worker, then with two; with two workers, for N, 2N and 4N
# images. The last line scores the model on 1000 new images, predicted
# chunk by chunk on the cluster.
#
# The printed figures below were recorded on a 2-core machine
# (shared with other jobs, so the wall times are noisy).

if __name__ == "__main__":
    MiB = 2**20
    cluster = LocalCluster(
        n_workers=1,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    client = Client(cluster)
    try:
        scaler = fit_scaler(N_CHUNKS)  # also warms up: imports on the worker
        wall = {1: timed_training(client, 4 * N_CHUNKS, scaler)[1]}

        cluster.scale(2)
        client.wait_for_workers(2)
        train(2, scaler)  # warm-up of the new worker

        print("images  all images  peak RSS per worker   above idle  wall time")
        for mult in (1, 2, 4):
            n_chunks = mult * N_CHUNKS
            inc, seconds, rss = timed_training(client, n_chunks, scaler)
            n_images = n_chunks * CHUNK
            peaks = " / ".join(f"{p / MiB:.0f}" for _, p in rss.values())
            above = " / ".join(f"{(p - b) / MiB:.0f}" for b, p in rss.values())
            print(
                f"{n_images:>6} {n_images * SIDE * SIDE * 8 / MiB:>6.0f} MiB"
                f" {peaks:>15} MiB {above:>8} MiB {seconds:>8.1f} s"
            )
        wall[2] = seconds

        print()
        for n_workers, seconds in wall.items():
            print(f"{4 * N_CHUNKS * CHUNK} images, {n_workers} worker(s): {seconds:.1f} s")

        dX_new, dy_new = image_array(4, first=1000)
        dS_new = scaler.transform(gabor_features(dX_new))
        print(f"accuracy on 1000 new images: {inc.score(dS_new, dy_new):.3f}")
    finally:
        client.close()
        cluster.close()

# %%
# Output recorded on a 2-core machine (``python
# examples/dask_out_of_core.py``, 65 s in all, load average about 8 from
# other jobs)::
#
#     images  all images  peak RSS per worker   above idle  wall time
#       1000      8 MiB       413 / 410 MiB  46 / 48 MiB      2.0 s
#       2000     16 MiB       411 / 409 MiB  45 / 48 MiB      3.3 s
#       4000     31 MiB       414 / 412 MiB  47 / 49 MiB      6.1 s
#
#     4000 images, 1 worker(s): 10.6 s
#     4000 images, 2 worker(s): 6.1 s
#     accuracy on 1000 new images: 0.996
#
# The peak memory of a worker is the same for 1000, 2000 and 4000 images,
# although the images alone take 8, 16 and 31 MiB: a worker holds the
# chunks it is working on, not the data set (about 365 MiB of the RSS is the
# idle worker process with its libraries). The wall time with two workers
# depends on free cores: the Gabor transform of different chunks runs in
# parallel, the ``partial_fit`` chain (cheap here) does not. See
# ``benchmarks/bench_dask.py`` for larger sizes.
