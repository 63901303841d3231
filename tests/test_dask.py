"""Scaling out through Dask (optional extra ``dask``).

These tests start a real ``dask.distributed.LocalCluster`` with two worker
processes and check that the standard Dask wrappers work with our
estimators, with no Dask code in the library itself:

* ``GaborTransformer.transform`` is stateless, so it runs blockwise on a
  dask array of images (``dask.array.map_blocks`` or
  ``dask_ml.wrappers.ParallelPostFit``) and matches the in-memory features;
* ``dask_ml.wrappers.Incremental`` drives ``GDSoftmaxClassifier.partial_fit``
  one chunk at a time and reaches the accuracy of in-memory training;
* ``GridSearchCV`` under ``joblib.parallel_config(backend="dask")`` finds the
  same ``best_params_`` (and the same scores) as with the default backend;
* importing ``sklearn_gabor`` does not import Dask.
"""

import logging
import subprocess
import sys
import warnings

import numpy as np
import pytest

pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("dask.distributed")
wrappers = pytest.importorskip("dask_ml.wrappers")
dask_ml_preprocessing = pytest.importorskip("dask_ml.preprocessing")

import joblib  # noqa: E402
from numpy.testing import assert_allclose, assert_array_equal  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from sklearn_gabor import GaborTransformer, GDSoftmaxClassifier  # noqa: E402
from sklearn_gabor.datasets import make_gratings  # noqa: E402

IMAGE_SHAPE = (16, 16)
N_CLASSES = 4
CHUNK = 200  # images per chunk (block) along the rows


@pytest.fixture(scope="module")
def client():
    """Two worker processes with one thread each, loopback only, no dashboard."""
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


@pytest.fixture(scope="module")
def gratings():
    # noise=1.0 keeps the task hard enough (about 96 % accuracy) for the
    # accuracy comparison to mean something
    X, y = make_gratings(
        2400, IMAGE_SHAPE, N_CLASSES, noise=1.0, random_state=0
    )
    return X[:1600], y[:1600], X[1600:], y[1600:]


def _gabor():
    return GaborTransformer(
        image_shape=IMAGE_SHAPE,
        frequencies=(0.1, 0.2),
        n_orientations=4,
        pool_grid=(2, 2),
    )


def _blockwise_transform(transformer, dX):
    """``transformer.transform`` applied to each row-block of ``dX``.

    The number of output columns and the dtype are read from the transform of
    one dummy row, so the dask array has the right shape and metadata.
    """
    probe = transformer.transform(np.zeros((1, dX.shape[1]), dtype=dX.dtype))
    return dX.map_blocks(
        transformer.transform,
        chunks=(dX.chunks[0], (probe.shape[1],)),
        dtype=probe.dtype,
        meta=probe[:0],
    )


def _chunked(X, y):
    return da.from_array(X, chunks=(CHUNK, -1)), da.from_array(y, chunks=CHUNK)


def test_blockwise_transform_matches_in_memory(client, gratings):
    X, _, _, _ = gratings
    dX, _ = _chunked(X, gratings[1])
    assert dX.numblocks == (8, 1)
    gabor = _gabor().fit(X)
    expected = gabor.transform(X)

    dF = _blockwise_transform(gabor, dX)
    assert dF.shape == expected.shape
    assert dF.dtype == expected.dtype
    assert dF.chunks[0] == dX.chunks[0]
    F = client.compute(dF).result()
    assert_allclose(F, expected, rtol=1e-6, atol=1e-7)

    # ParallelPostFit gives the same values. (Its dask-array ``transform``
    # calls ``map_blocks`` without ``chunks``, so the lazy array reports the
    # input's column count; the computed blocks are right. Hence
    # ``_blockwise_transform`` above for pipelines.)
    dF_ppf = wrappers.ParallelPostFit(gabor).transform(dX)
    F_ppf = client.compute(dF_ppf).result()
    assert F_ppf.shape == expected.shape
    assert_allclose(F_ppf, expected, rtol=1e-6, atol=1e-7)


def test_incremental_training_on_chunks(client, gratings):
    X, y, X_test, y_test = gratings
    classes = np.arange(N_CLASSES)
    dX, dy = _chunked(X, y)
    dX_test, dy_test = _chunked(X_test, y_test)

    # stateless features, fitted on the shape only; scaled with statistics
    # computed blockwise by dask-ml (nothing is gathered in memory)
    gabor = _gabor().fit(X[:1])
    dF = _blockwise_transform(gabor, dX)
    scaler = dask_ml_preprocessing.StandardScaler().fit(dF)
    dS = scaler.transform(dF)
    dS_test = scaler.transform(_blockwise_transform(gabor, dX_test))

    params = dict(solver="sgd", learning_rate=0.05, random_state=0)
    n_epochs = 3
    inc = wrappers.Incremental(
        GDSoftmaxClassifier(**params), scoring="accuracy", shuffle_blocks=False
    )
    inc.fit(dS, dy, classes=classes)
    for _ in range(n_epochs - 1):
        inc.partial_fit(dS, dy, classes=classes)
    clf_dask = inc.estimator_
    # one partial_fit per chunk and epoch: 8 chunks of 200 images
    assert clf_dask.n_iter_ == n_epochs * dX.numblocks[0]
    assert clf_dask.t_ == n_epochs * X.shape[0]
    acc_dask = inc.score(dS_test, dy_test)  # predicted blockwise on the cluster

    # in memory: the same partial_fit calls on the same chunks, in order
    S = scaler.transform(gabor.transform(X))
    S_test = scaler.transform(gabor.transform(X_test))
    clf_mem = GDSoftmaxClassifier(**params)
    for _ in range(n_epochs):
        for start in range(0, X.shape[0], CHUNK):
            stop = start + CHUNK
            clf_mem.partial_fit(S[start:stop], y[start:stop], classes=classes)
    assert_allclose(clf_dask.coef_, clf_mem.coef_, rtol=1e-6, atol=1e-7)
    assert_allclose(clf_dask.intercept_, clf_mem.intercept_, rtol=1e-6, atol=1e-7)
    assert_array_equal(
        client.compute(inc.predict(dS_test)).result(), clf_mem.predict(S_test)
    )

    # in memory, full-batch gradient descent on all the data at once
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf_full = GDSoftmaxClassifier(max_iter=300).fit(S, y)
    acc_full = clf_full.score(S_test, y_test)
    assert acc_full > 0.9
    assert abs(acc_dask - acc_full) <= 0.01, (acc_dask, acc_full)


def test_grid_search_with_joblib_dask_backend(client, gratings):
    X, y = gratings[0][:600], gratings[1][:600]
    pipe = make_pipeline(
        _gabor(), StandardScaler(), GDSoftmaxClassifier(max_iter=100, tol=0)
    )
    grid = {"gdsoftmaxclassifier__learning_rate": [0.003, 0.03, 0.3]}

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        local = GridSearchCV(pipe, grid, cv=3).fit(X, y)
        with distributed.get_task_stream(client) as ts:
            with joblib.parallel_config(backend="dask"):
                on_dask = GridSearchCV(pipe, grid, cv=3, n_jobs=-1).fit(X, y)

    # the fits really ran as tasks on the cluster's workers
    assert ts.data, "no task ran on the dask cluster"
    assert on_dask.best_params_ == local.best_params_
    for key in ("mean_test_score", "std_test_score", "split0_test_score"):
        assert_allclose(on_dask.cv_results_[key], local.cv_results_[key], rtol=0, atol=1e-12)
    # not a degenerate grid: the learning rate matters
    scores = local.cv_results_["mean_test_score"]
    assert scores.max() - scores.min() > 0.01


def test_import_does_not_import_dask():
    code = (
        "import sys, sklearn_gabor, sklearn_gabor.datasets\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('dask', 'distributed', 'dask_ml'))\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
