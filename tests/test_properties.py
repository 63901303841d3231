"""Property tests (hypothesis) over shapes, dtypes, scales and class counts.

For both estimators: finite outputs, no mutation of the inputs, results
invariant to the order of the rows, and bit-identical repeated fits for a
fixed ``random_state``; for the classifier also probabilities that sum to one.
"""

import warnings

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning

from sklearn_gabor import GaborTransformer, GDSoftmaxClassifier

SETTINGS = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,  # the same examples on every run: no flaky CI
    suppress_health_check=[HealthCheck.too_slow],
)


@st.composite
def classification(draw):
    n_classes = draw(st.integers(2, 5))
    n_per_class = draw(st.integers(1, 8))
    n_features = draw(st.integers(1, 7))
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    scale = 10.0 ** draw(st.integers(-3, 4))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.RandomState(seed)
    y = np.repeat(np.arange(n_classes), n_per_class)
    centers = rng.randn(n_classes, n_features)
    X = ((centers[y] + rng.randn(len(y), n_features)) * scale).astype(dtype)
    labels = draw(st.sampled_from(["int", "str"]))
    if labels == "str":
        y = np.array([f"class-{k}" for k in y])
    return X, y, seed


def _fit(X, y, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return GDSoftmaxClassifier(max_iter=15, **params).fit(X, y)


@SETTINGS
@given(data=classification(), solver=st.sampled_from(["gd", "pgd", "apgd", "sgd", "adam"]))
def test_classifier_properties(data, solver):
    X, y, seed = data
    X_in, y_in = X.copy(), y.copy()
    params = dict(solver=solver, random_state=seed, batch_size=max(1, len(y) // 3))
    clf = _fit(X, y, **params)
    # no mutation of the inputs
    assert_array_equal(X, X_in)
    assert_array_equal(y, y_in)

    proba = clf.predict_proba(X)
    assert proba.dtype == X.dtype and np.all(np.isfinite(proba))
    assert_allclose(proba.sum(axis=1), 1, atol=10 * np.finfo(X.dtype).eps)
    assert np.all(np.isfinite(clf.decision_function(X)))
    log_proba = clf.predict_log_proba(X)
    assert not np.any(np.isnan(log_proba)) and np.all(log_proba <= 0)
    pred = clf.predict(X)
    assert set(pred) <= set(y)

    # per-row outputs do not depend on the order of the rows
    perm = np.random.RandomState(seed).permutation(len(y))
    assert_array_equal(clf.predict(X[perm]), pred[perm])
    assert_array_equal(clf.predict_proba(X[perm]), proba[perm])

    # a fixed random_state gives bit-identical repeated fits
    again = _fit(X, y, **params)
    assert_array_equal(again.coef_, clf.coef_)
    assert_array_equal(again.intercept_, clf.intercept_)
    assert again.loss_curve_ == clf.loss_curve_
    assert_array_equal(X, X_in)


@SETTINGS
@given(data=classification())
def test_full_batch_fit_is_invariant_to_row_order(data):
    """'gd' sums over all samples: a permutation changes only the rounding."""
    X, y, seed = data
    perm = np.random.RandomState(seed + 1).permutation(len(y))
    a = _fit(X, y, solver="gd", tol=0)
    b = _fit(X[perm], y[perm], solver="gd", tol=0)
    tol = 1e-4 if X.dtype == np.float32 else 1e-8
    scale = max(1.0, float(np.abs(a.coef_).max()))
    assert_allclose(b.coef_, a.coef_, rtol=tol, atol=tol * scale)
    assert_allclose(b.predict_proba(X), a.predict_proba(X), atol=100 * tol)


@st.composite
def images(draw):
    H = draw(st.integers(1, 12))
    W = draw(st.integers(1, 12))
    C = draw(st.sampled_from([1, 3]))
    n = draw(st.integers(1, 5))
    kind = draw(st.sampled_from(["float64", "float32", "uint8", "bool", "scaled"]))
    rng = np.random.RandomState(draw(st.integers(0, 2**16)))
    if kind == "uint8":
        X = rng.randint(0, 256, size=(n, H * W * C)).astype(np.uint8)
    elif kind == "bool":
        X = rng.rand(n, H * W * C) > 0.5
    elif kind == "scaled":
        # up to 1e6: squared responses pooled by std stay within float32
        X = rng.randn(n, H * W * C) * 10.0 ** draw(st.integers(-6, 6))
    else:
        X = rng.rand(n, H * W * C).astype(kind)
    return X, (H, W, C), rng


@SETTINGS
@given(
    data=images(),
    nonlinearity=st.sampled_from(["modulus", "real", "rectified", "squared"]),
    stats=st.sampled_from([("mean",), ("max",), ("mean", "std")]),
    n_jobs=st.sampled_from([None, 2]),
)
def test_transformer_properties(data, nonlinearity, stats, n_jobs):
    X, shape, rng = data
    X_in = X.copy()
    gt = GaborTransformer(
        shape,
        frequencies=(0.1, 0.3),
        n_orientations=3,
        pool_grid=(2, 2),
        nonlinearity=nonlinearity,
        pool_stats=stats,
        n_jobs=n_jobs,
        batch_size=2,
    )
    F = gt.fit_transform(X)
    assert_array_equal(X, X_in)  # no mutation
    assert F.shape == (len(X), len(gt.get_feature_names_out()))
    assert F.dtype == np.float32 and np.all(np.isfinite(F))
    # rows are independent: permuting them permutes the features, bit for bit
    perm = rng.permutation(len(X))
    assert_array_equal(gt.transform(X[perm]), F[perm])
    # deterministic, also with another number of FFT threads
    assert_array_equal(gt.set_params(n_jobs=1).transform(X), F)
    assert_array_equal(X, X_in)
