"""Tests of GDSoftmaxClassifier against independent references.

References: ``scipy.special.softmax``/``log_softmax`` for the link, finite
differences (``scipy.optimize.check_grad``) for the gradient and the converged
optimum of ``LogisticRegression(solver="lbfgs")`` for the convex problem.
"""

import pickle
import re
import warnings

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from scipy.optimize import check_grad
from scipy.special import expit, log_softmax, softmax
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_gabor import GDSoftmaxClassifier
from sklearn_gabor._softmax import _log_softmax, _softmax
from sklearn_gabor._training import _loss_grad
from sklearn_gabor.exceptions import DivergenceError

ALPHA = 1e-2


def _data(n_classes, n_samples=240, n_features=6, seed=0):
    X, y = make_classification(
        n_samples=n_samples,
        n_features=n_features,
        n_informative=4,
        n_redundant=0,
        n_classes=n_classes,
        n_clusters_per_class=1,
        random_state=seed,
    )
    return StandardScaler().fit_transform(X), y


def _lr_equivalent(n_classes, n_samples, alpha=ALPHA):
    """LogisticRegression with the C that gives our objective (see the docstring)."""
    C = (2.0 if n_classes == 2 else 1.0) / (alpha * n_samples)
    return LogisticRegression(C=C, tol=1e-12, max_iter=10_000)


def _objective(clf, X, y):
    """Our loss L(W, b) at the fitted parameters."""
    y_idx = np.searchsorted(clf.classes_, y)
    sw = np.full(X.shape[0], 1.0 / X.shape[0])
    W, b = clf._start_weights(len(clf.classes_), X.shape[1], X.dtype, warm=True)
    return _loss_grad(W, b, X, y_idx, sw, clf.alpha)[0]


# --------------------------------------------------------------- the link
def test_softmax_matches_scipy():
    """softmax / log-softmax equal scipy's, including logits of +-1e4, with no warnings."""
    rng = np.random.RandomState(0)
    O = rng.randn(50, 7) * 10
    O[0] = [1e4, -1e4, 0, 3, 1e4, -2, 5]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert_allclose(_softmax(O), softmax(O, axis=1), rtol=1e-12, atol=1e-300)
        assert_allclose(_log_softmax(O), log_softmax(O, axis=1), rtol=1e-12)
    assert np.all(np.isfinite(_log_softmax(O)))


@pytest.mark.parametrize("n_classes", [2, 4])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("sparse", [False, True])
def test_gradient_matches_finite_differences(n_classes, fit_intercept, sparse):
    """The analytic gradient agrees with scipy.optimize.check_grad."""
    X, y = _data(n_classes, n_samples=60, n_features=5)
    if sparse:
        X = sp.csr_matrix(np.where(np.abs(X) > 0.5, X, 0))
    rng = np.random.RandomState(1)
    sw = rng.uniform(0.1, 2.0, size=X.shape[0])
    sw /= sw.sum()
    T, d = n_classes, X.shape[1]

    def unpack(theta):
        return theta[: T * d].reshape(T, d), theta[T * d :]

    def f(theta):
        return _loss_grad(*unpack(theta), X, y, sw, 0.3, fit_intercept)[0]

    def g(theta):
        _, gW, gb = _loss_grad(*unpack(theta), X, y, sw, 0.3, fit_intercept)
        return np.concatenate([gW.ravel(), gb])

    theta0 = rng.randn(T * d + T)
    err = check_grad(f, g, theta0)
    assert err < 1e-5 * max(1.0, np.linalg.norm(g(theta0)))
    # the loss is the weighted mean cross-entropy against one-hot targets
    W, b = unpack(theta0)
    O = X @ W.T + (b if fit_intercept else 0)
    Y = np.eye(T)[y]
    expected = -np.sum(sw * np.sum(Y * log_softmax(np.asarray(O), axis=1), axis=1))
    expected += 0.15 * np.sum(W**2)
    assert_allclose(f(theta0), expected, rtol=1e-12)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_loss_grad_by_row_blocks_is_the_whole_sum(fit_intercept, dtype, monkeypatch):
    """Dense X is processed in blocks of FUSED_ROWS rows: same loss and gradient."""
    from sklearn_gabor import _training

    X, y = _data(4, n_samples=100)
    X = X.astype(dtype)
    rng = np.random.RandomState(0)
    sw = rng.uniform(0.1, 2.0, size=100).astype(dtype)
    sw /= sw.sum()
    W = rng.standard_normal((4, X.shape[1])).astype(dtype)
    b = rng.standard_normal(4).astype(dtype)
    whole = _loss_grad(W, b, X, y, sw, 0.3, fit_intercept)
    monkeypatch.setattr(_training, "FUSED_ROWS", 7)  # 15 blocks, the last of 2 rows
    blocks = _loss_grad(W, b, X, y, sw, 0.3, fit_intercept)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    assert_allclose(blocks[0], whole[0], rtol=rtol)
    for a, c in zip(blocks[1:], whole[1:]):
        assert a.dtype == dtype
        assert_allclose(a, c, rtol=rtol, atol=rtol)


def test_max_abs_keeps_non_finite_entries():
    """The stopping and divergence checks see NaN or inf in any of W's or b's gradient."""
    from sklearn_gabor._training import _max_abs

    assert _max_abs(np.array([[1.0, -3.0]]), np.array([2.0])) == 3.0
    assert np.isnan(_max_abs(np.array([[np.nan, 1.0]]), np.array([5.0])))
    assert np.isnan(_max_abs(np.array([[1.0]]), np.array([np.nan])))
    assert _max_abs(np.array([[-np.inf]]), np.array([1.0])) == np.inf
    assert _max_abs(np.zeros((2, 0)), np.array([-0.5])) == 0.5


# ----------------------------------------------------- the convex optimum
@pytest.mark.parametrize("solver", ["gd", "pgd", "apgd"])
def test_tol_bounds_the_largest_gradient_entry(solver):
    """Training stops at the first epoch where max_i |dL/dtheta_i| < tol (lbfgs's gtol).

    The gradient is recomputed here from ``scipy.special.softmax`` at the
    returned weights; its Euclidean norm is still above tol, so a rule on
    that norm would not have stopped.
    """
    X, y = _data(5, n_samples=300, n_features=40)
    tol = 1e-3
    clf = GDSoftmaxClassifier(solver=solver, alpha=ALPHA, tol=tol, max_iter=5000).fit(X, y)
    assert clf.n_iter_ < 5000
    P = softmax(X @ clf.coef_.T + clf.intercept_, axis=1)
    G = (P - np.eye(5)[y]) / len(y)
    grad = np.concatenate([(G.T @ X + ALPHA * clf.coef_).ravel(), G.sum(axis=0)])
    assert np.abs(grad).max() < tol <= clf.grad_norm_curve_[-2]
    assert_allclose(clf.grad_norm_curve_[-1], np.abs(grad).max(), rtol=1e-6)
    assert np.linalg.norm(grad) > tol


@pytest.mark.parametrize("n_classes", [2, 5])
def test_gd_matches_logistic_regression(n_classes):
    """'gd' at tight tol reaches LogisticRegression's optimum (same predict_proba to 1e-4)."""
    X, y = _data(n_classes)
    ref = _lr_equivalent(n_classes, X.shape[0]).fit(X, y)
    clf = GDSoftmaxClassifier(
        learning_rate=1.0, learning_rate_schedule="constant", alpha=ALPHA,
        tol=1e-7, max_iter=20_000,
    ).fit(X, y)
    assert clf.grad_norm_curve_[-1] < 1e-7
    assert_allclose(clf.predict_proba(X), ref.predict_proba(X), atol=1e-4)
    assert clf.coef_.shape == ref.coef_.shape
    assert_allclose(clf.coef_, ref.coef_, atol=1e-4)
    assert_allclose(clf.intercept_, ref.intercept_, atol=1e-4)
    assert_allclose(clf.decision_function(X), ref.decision_function(X), atol=1e-3)


@pytest.mark.parametrize("n_classes", [2, 5])
@pytest.mark.parametrize(
    "params",
    [
        {"solver": "sgd", "learning_rate": 0.05, "momentum": 0.9, "batch_size": 32},
        {"solver": "adam", "learning_rate": 0.01, "batch_size": 32},
    ],
)
def test_stochastic_solvers_reach_optimum(n_classes, params):
    """'sgd' and 'adam' reach the optimal loss within 1e-3."""
    X, y = _data(n_classes)
    opt = GDSoftmaxClassifier(
        learning_rate=1.0, learning_rate_schedule="constant", alpha=ALPHA, tol=1e-8,
        max_iter=20_000,
    ).fit(X, y)
    clf = GDSoftmaxClassifier(
        alpha=ALPHA, max_iter=1000, tol=1e-6, n_iter_no_change=10, random_state=0,
        **params,
    ).fit(X, y)
    assert _objective(clf, X, y) - _objective(opt, X, y) < 1e-3
    assert _objective(clf, X, y) >= _objective(opt, X, y) - 1e-9


# ------------------------------------------- 'pgd': preconditioned descent
def _correlated_data(n_classes, n_samples=300, n_features=40, seed=0):
    """Standardized features that share one strong common factor (ill-conditioned, as pixels are)."""
    rng = np.random.RandomState(seed)
    y = rng.randint(n_classes, size=n_samples)
    centers = rng.randn(n_classes, n_features)
    common = rng.randn(n_samples, 1) * 5
    X = centers[y] + rng.randn(n_samples, n_features) + common
    return StandardScaler().fit_transform(X), y


@pytest.mark.parametrize("n_classes", [2, 5])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_pgd_matches_logistic_regression(n_classes, fit_intercept):
    """'pgd' reaches LogisticRegression's optimum, on ill-conditioned data, in far fewer epochs than 'gd'."""
    X, y = _correlated_data(n_classes)
    ref = _lr_equivalent(n_classes, X.shape[0]).set_params(fit_intercept=fit_intercept).fit(X, y)
    params = {"alpha": ALPHA, "tol": 1e-7, "max_iter": 20_000, "fit_intercept": fit_intercept}
    pgd = GDSoftmaxClassifier(solver="pgd", learning_rate=1.0, **params).fit(X, y)
    assert pgd.grad_norm_curve_[-1] < 1e-7
    assert_allclose(pgd.predict_proba(X), ref.predict_proba(X), atol=1e-4)
    assert_allclose(pgd.coef_, ref.coef_, atol=1e-4)
    assert_allclose(pgd.intercept_, ref.intercept_, atol=1e-4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gd = GDSoftmaxClassifier(solver="gd", learning_rate=1.0, **params).fit(X, y)
    assert pgd.n_iter_ * 5 < gd.n_iter_


@pytest.mark.parametrize("n_classes", [2, 4])
def test_pgd_unit_step_never_increases_the_loss(n_classes):
    """With learning_rate=1 each 'pgd' step minimizes an upper bound of L: the loss never rises.

    The constant schedule would let a rise through (the adaptive one would undo it),
    and a step twice as long does overshoot on this data, so the bound is what holds it.
    """
    X, y = _correlated_data(n_classes, seed=1)
    rng = np.random.RandomState(0)
    sw = rng.uniform(0.2, 3.0, size=len(y))
    clf = GDSoftmaxClassifier(
        solver="pgd", learning_rate=1.0, learning_rate_schedule="constant", alpha=1e-3,
        tol=0, max_iter=40,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y, sample_weight=sw)
    curve = np.asarray(clf.loss_curve_)
    assert np.all(np.diff(curve) <= 1e-12 * curve[:-1])
    assert curve[-1] < 0.5 * curve[0]


# ------------------------------------- 'apgd': accelerated preconditioned descent
@pytest.mark.parametrize("n_classes", [2, 5])
@pytest.mark.parametrize("alpha", [ALPHA, 1e-4])
def test_apgd_matches_logistic_regression_in_fewer_epochs(n_classes, alpha):
    """'apgd' reaches LogisticRegression's optimum, and takes fewer epochs than 'pgd' to get there.

    With the weak penalty the bound M is loose at the optimum (confident
    probabilities, small Hessian) and 'pgd' needs thousands of epochs.
    """
    X, y = _correlated_data(n_classes)
    ref = _lr_equivalent(n_classes, X.shape[0], alpha).fit(X, y)
    params = {"alpha": alpha, "tol": 1e-7, "max_iter": 50_000, "learning_rate": 1.0}
    apgd = GDSoftmaxClassifier(solver="apgd", **params).fit(X, y)
    pgd = GDSoftmaxClassifier(solver="pgd", **params).fit(X, y)
    assert apgd.grad_norm_curve_[-1] < 1e-7
    assert_allclose(apgd.predict_proba(X), ref.predict_proba(X), atol=1e-4)
    assert_allclose(apgd.coef_, ref.coef_, atol=1e-4 / alpha * ALPHA)
    assert apgd.n_iter_ * (2 if alpha == ALPHA else 5) < pgd.n_iter_


def test_apgd_restarts_when_the_extrapolation_raises_the_loss():
    """A rise of the loss at an extrapolated point sends the weights back to the last plain step."""
    from sklearn_gabor._training import _Acceleration

    W, b = np.zeros((3, 4)), np.zeros(3)
    acc = _Acceleration(W, b)
    g = np.ones((3, 4)), np.ones(3)
    for loss in (2.0, 1.0):  # two downhill steps: the second extrapolates
        acc.step(W, b, g, g, 0.5, loss)
    assert acc.extrapolated and acc.t > 1
    x = acc.x[0].copy()
    assert not np.allclose(W, x)  # y = x + beta (x - x_prev)
    assert not acc.overshot(0.9, W.dtype) and acc.overshot(1.1, W.dtype)
    assert acc.overshot(np.nan, W.dtype)
    acc.restart(W, b)
    assert_allclose(W, x)
    assert acc.t == 1.0 and not acc.extrapolated
    # an uphill step (gradient along the last move) restarts the momentum too
    acc.step(W, b, (-g[0], -g[1]), g, 0.5, 0.8)
    assert acc.t == 1.0 and not acc.extrapolated


def test_apgd_partial_fit_steps_are_pgd_steps():
    """The momentum lives within one call: each partial_fit call makes one plain 'pgd' step."""
    X, y = _correlated_data(3)
    params = {"learning_rate": 1.0, "alpha": ALPHA, "tol": 0}
    a = GDSoftmaxClassifier(solver="apgd", **params)
    p = GDSoftmaxClassifier(solver="pgd", **params)
    for _ in range(4):
        a.partial_fit(X, y, classes=np.unique(y))
        p.partial_fit(X, y, classes=np.unique(y))
    assert_allclose(a.coef_, p.coef_, rtol=1e-12)
    assert_allclose(a.loss_curve_, p.loss_curve_, rtol=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fit = GDSoftmaxClassifier(solver="apgd", max_iter=4, **params).fit(X, y)
    assert fit.loss_curve_[-1] < a.loss_curve_[-1]  # within one fit, the momentum helps


def test_pgd_preconditioner_bounds_the_hessian():
    """M - H is positive semi-definite, with H the finite-difference Hessian of L at several points."""
    from sklearn_gabor._optim import _BoundPreconditioner

    X, y = _correlated_data(3, n_samples=80, n_features=4)
    T, d = 3, X.shape[1]
    sw = np.full(len(y), 1.0 / len(y))
    M = _BoundPreconditioner(X, sw, 0.1, True)
    L = _cho_to_matrix(M.factor)
    rng = np.random.RandomState(0)
    for scale in (0.0, 0.3, 2.0):
        theta = rng.randn(T * (d + 1)) * scale

        def grad(th):
            W, b = th.reshape(T, d + 1)[:, :d], th.reshape(T, d + 1)[:, d]
            _, gW, gb = _loss_grad(W, b, X, y, sw, 0.1)
            return np.concatenate([gW, gb[:, None]], axis=1).ravel()

        eps = 1e-6
        H = np.stack([
            (grad(theta + eps * e) - grad(theta - eps * e)) / (2 * eps)
            for e in np.eye(theta.size)
        ])
        H = (H + H.T) / 2
        bound = np.kron(np.eye(T), L)
        assert np.linalg.eigvalsh(bound - H).min() > -1e-6
        if scale == 0.0:  # uniform p: diag(p) - p p^T has eigenvalue 1/3, the bound 1/2
            assert np.linalg.eigvalsh(H).max() > 0.6 * np.linalg.eigvalsh(bound).max()


def _cho_to_matrix(factor):
    c, lower = factor
    c = np.tril(c) if lower else np.triu(c)
    return c @ c.T if lower else c.T @ c


def test_pgd_sparse_and_weights():
    """CSR input equals dense, and integer sample weights equal repeated samples."""
    X, y = _correlated_data(3, n_samples=120, n_features=10)
    X[np.abs(X) < 0.6] = 0
    params = {"solver": "pgd", "learning_rate": 1.0, "max_iter": 15, "tol": 0, "alpha": ALPHA}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        dense = GDSoftmaxClassifier(**params).fit(X, y)
        sparse = GDSoftmaxClassifier(**params).fit(sp.csr_matrix(X), y)
        w = np.random.RandomState(7).randint(0, 3, size=len(y))
        weighted = GDSoftmaxClassifier(**params).fit(X, y, sample_weight=w)
        repeated = GDSoftmaxClassifier(**params).fit(np.repeat(X, w, axis=0), np.repeat(y, w))
    assert_allclose(sparse.coef_, dense.coef_, rtol=1e-9, atol=1e-12)
    assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-8, atol=1e-10)
    assert_allclose(weighted.intercept_, repeated.intercept_, rtol=1e-8, atol=1e-10)


def test_pgd_collinear_features_without_penalty():
    """alpha=0 with duplicated columns (singular X^T X) still fits, finite, to the optimum's accuracy."""
    X, y = _data(3)
    X = np.hstack([X, X[:, :2]])
    clf = GDSoftmaxClassifier(solver="pgd", learning_rate=1.0, alpha=0.0, max_iter=50)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    assert np.all(np.isfinite(clf.coef_))
    assert clf.loss_curve_[-1] < clf.loss_curve_[0]
    assert clf.score(X, y) > 0.8


# ------------------------------------------------------------ behaviour
@pytest.mark.parametrize("solver", ["gd", "pgd", "sgd", "adam"])
def test_partial_fit_equals_fit(solver):
    """N calls of partial_fit with shuffle=False equal fit with max_iter=N."""
    X, y = _data(3)
    params = {"solver": solver, "shuffle": False, "tol": 0.0, "learning_rate": 0.1, "batch_size": 50}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        full = GDSoftmaxClassifier(max_iter=7, **params).fit(X, y)
    inc = GDSoftmaxClassifier(**params)
    for _ in range(7):
        inc.partial_fit(X, y, classes=np.unique(y))
    assert_allclose(inc.coef_, full.coef_, rtol=1e-12)
    assert_allclose(inc.intercept_, full.intercept_, rtol=1e-12)
    assert inc.n_iter_ == full.n_iter_ == 7
    assert_allclose(inc.loss_curve_, full.loss_curve_)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("solver", ["gd", "pgd", "apgd", "sgd", "adam"])
def test_dtype_preserved(dtype, solver):
    """float32 stays float32 end to end (parameters and outputs)."""
    X, y = _data(3)
    X = X.astype(dtype)
    clf = GDSoftmaxClassifier(solver=solver, max_iter=20, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    assert clf.coef_.dtype == dtype and clf.intercept_.dtype == dtype
    assert clf.predict_proba(X).dtype == dtype
    assert clf.decision_function(X).dtype == dtype
    assert clf.score(X, y) > 0.8


def test_sparse_equals_dense():
    """CSR input gives the same model as the dense array."""
    X, y = _data(3)
    X[np.abs(X) < 0.7] = 0
    dense = GDSoftmaxClassifier(max_iter=50, tol=0).fit(X, y)
    sparse = GDSoftmaxClassifier(max_iter=50, tol=0).fit(sp.csr_matrix(X), y)
    assert_allclose(sparse.coef_, dense.coef_, rtol=1e-10)
    assert_allclose(sparse.predict_proba(sp.csr_matrix(X)), dense.predict_proba(X))


def test_string_labels_and_binary_conventions():
    """String labels work; two classes give coef_ (1, d) and log-odds decisions."""
    X, y = _data(2)
    labels = np.array(["cat", "dog"])[y]
    clf = GDSoftmaxClassifier(max_iter=300).fit(X, labels)
    assert_array_equal(clf.classes_, ["cat", "dog"])
    assert clf.coef_.shape == (1, X.shape[1]) and clf.intercept_.shape == (1,)
    d = clf.decision_function(X)
    p = clf.predict_proba(X)
    assert d.shape == (X.shape[0],)
    assert_allclose(d, np.log(p[:, 1] / p[:, 0]), rtol=1e-6, atol=1e-8)
    assert_array_equal(clf.predict(X), np.where(d > 0, "dog", "cat"))
    assert_allclose(clf.predict_log_proba(X), np.log(p), atol=1e-10)
    # p_1 = sigmoid(w^T x + b) with the reported single hyperplane (see Notes)
    assert_allclose(p[:, 1], expit(X @ clf.coef_[0] + clf.intercept_[0]), rtol=1e-10)


def test_sample_weight_is_repetition():
    """An integer sample weight equals repeating the sample."""
    X, y = _data(3, n_samples=90)
    w = np.random.RandomState(0).randint(0, 3, size=X.shape[0])
    a = GDSoftmaxClassifier(max_iter=30, tol=0).fit(X, y, sample_weight=w)
    b = GDSoftmaxClassifier(max_iter=30, tol=0).fit(np.repeat(X, w, 0), np.repeat(y, w))
    assert_allclose(a.coef_, b.coef_, rtol=1e-9, atol=1e-12)


def test_class_weight_balanced_equals_sample_weight():
    """class_weight='balanced' is the same as the equivalent sample weights."""
    X, y = _data(3)
    keep = (y != 0) | (np.arange(len(y)) % 3 == 0)
    X, y = X[keep], y[keep]
    counts = np.bincount(y)
    sw = (len(y) / (3 * counts))[y]
    a = GDSoftmaxClassifier(class_weight="balanced", max_iter=40, tol=0).fit(X, y)
    b = GDSoftmaxClassifier(max_iter=40, tol=0).fit(X, y, sample_weight=sw)
    assert_allclose(a.coef_, b.coef_, rtol=1e-10)


def test_early_stopping_restores_best():
    """early_stopping records validation scores and keeps the best weights."""
    X, y = _data(3, n_samples=400)
    clf = GDSoftmaxClassifier(
        solver="sgd", learning_rate=0.05, early_stopping=True, n_iter_no_change=3,
        max_iter=200, random_state=0,
    ).fit(X, y)
    assert len(clf.validation_scores_) == clf.n_iter_ < 200
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    assert clf.score(X, y) > 0.8


def test_warm_start_continues():
    """warm_start=True continues from the previous solution; the curves are the new fit's."""
    X, y = _data(3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = GDSoftmaxClassifier(solver="gd", max_iter=20, tol=0, warm_start=True).fit(X, y).fit(X, y)
        b = GDSoftmaxClassifier(solver="gd", max_iter=40, tol=0).fit(X, y)
    assert_allclose(a.coef_, b.coef_, rtol=1e-10)
    assert a.n_iter_ == len(a.loss_curve_) == 20
    assert_allclose(a.loss_curve_, b.loss_curve_[20:], rtol=1e-10)


def test_verbose_prints_one_line_per_epoch(capsys):
    """verbose prints epoch, loss, gradient norm, learning rate and time."""
    X, y = _data(3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        GDSoftmaxClassifier(max_iter=5, tol=0, verbose=1).fit(X, y)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 5
    assert re.match(
        r"Epoch 1, loss = [\d.e+-]+, max \|grad\| = [\d.e+-]+, learning rate = [\d.e+-]+, "
        r"time = [\d.]+s",
        lines[0],
    )


def test_convergence_warning_when_max_iter_reached():
    X, y = _data(3)
    with pytest.warns(ConvergenceWarning, match="max_iter=3"):
        GDSoftmaxClassifier(max_iter=3, tol=0).fit(X, y)


# ----------------------------------------------------------- divergence
def test_divergence_raises_and_names_learning_rate():
    """A learning rate far too large stops with an error naming it and the epoch."""
    X, y = _data(3)
    clf = GDSoftmaxClassifier(solver="gd", learning_rate=1e8, learning_rate_schedule="constant")
    with pytest.raises(DivergenceError, match=r"learning_rate=100000000.0.*|epoch \d+"):
        clf.fit(X * 1e3, y)
    with pytest.raises(ValueError, match=r"at epoch \d+ with learning_rate=1e\+08|learning_rate=100000000"):
        clf.fit(X * 1e3, y)
    assert not hasattr(clf, "coef_")


def test_adaptive_schedule_recovers():
    """'adaptive' undoes overshooting steps and still converges to a finite model."""
    X, y = _data(3)
    clf = GDSoftmaxClassifier(solver="gd", learning_rate=1e8, max_iter=300)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X * 1e3, y)
    assert np.all(np.isfinite(clf.coef_))
    assert clf.score(X * 1e3, y) > 0.8
    # the loss never increased along the way
    assert np.all(np.diff(clf.loss_curve_) <= 1e-9)


def test_grid_search_over_learning_rates_survives_divergence():
    """GridSearchCV records the diverging rate as a failed fit and picks a finite model."""
    X, y = _data(3)
    pipe = make_pipeline(
        StandardScaler(),
        GDSoftmaxClassifier(learning_rate_schedule="constant", max_iter=100),
    )
    grid = {"gdsoftmaxclassifier__learning_rate": [0.01, 0.1, 1.0, 1e9]}
    search = GridSearchCV(pipe, grid, cv=3, error_score=np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search.fit(X * 1e4, y)
    scores = search.cv_results_["mean_test_score"]
    assert np.isnan(scores[-1]) and np.all(np.isfinite(scores[:-1]))
    assert search.best_params_["gdsoftmaxclassifier__learning_rate"] != 1e9
    assert np.all(np.isfinite(search.best_estimator_[-1].coef_))


def test_grid_search_plain_estimator_and_persistence(tmp_path):
    """GridSearchCV(clf, {'learning_rate': [...]}) works; joblib/pickle round trips."""
    X, y = _data(3)
    search = GridSearchCV(GDSoftmaxClassifier(max_iter=100), {"learning_rate": [0.01, 0.1, 1.0]}, cv=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X, y)
    best = search.best_estimator_
    path = tmp_path / "model.joblib"
    joblib.dump(best, path)
    loaded = joblib.load(path)
    assert_array_equal(loaded.predict(X), best.predict(X))
    assert_array_equal(loaded.predict_proba(X), best.predict_proba(X))
    again = pickle.loads(pickle.dumps(best))
    assert_array_equal(again.decision_function(X), best.decision_function(X))


# ------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    "params, match",
    [
        ({"learning_rate": -1.0}, r"'learning_rate' parameter of GDSoftmaxClassifier must be a float in the range \(0.0, inf\)"),
        ({"learning_rate": 0.0}, r"'learning_rate' parameter .* range \(0.0, inf\) or a str among \{'auto'\}\. Got 0.0"),
        ({"learning_rate": "fast"}, r"'learning_rate' parameter .* or a str among \{'auto'\}\. Got 'fast'"),
        ({"solver": "lbfgs"}, r"'solver' parameter of GDSoftmaxClassifier must be a str among"),
        ({"learning_rate_schedule": "cosine"}, r"'learning_rate_schedule' parameter"),
        ({"alpha": -1}, r"'alpha' parameter"),
        ({"batch_size": 0}, r"'batch_size' parameter"),
    ],
)
def test_invalid_parameters(params, match):
    X, y = _data(3)
    with pytest.raises(ValueError, match=match):
        GDSoftmaxClassifier(**params).fit(X, y)


def test_bad_inputs_raise_clear_errors():
    X, y = _data(3)
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        GDSoftmaxClassifier().fit(bad, y)
    bad[0, 0] = np.inf
    with pytest.raises(ValueError, match="Input X contains infinity"):
        GDSoftmaxClassifier().fit(bad, y)
    with pytest.raises(ValueError, match=r"Found array with 0 sample\(s\)"):
        GDSoftmaxClassifier().fit(np.empty((0, 3)), [])
    with pytest.raises(ValueError, match="at least 2 classes .* only one class: 1"):
        GDSoftmaxClassifier().fit(X, np.ones(len(y), dtype=int))
    with pytest.raises(ValueError, match="Only one class has a non-zero sample weight"):
        GDSoftmaxClassifier().fit(X, y, sample_weight=(y == 0).astype(float))
    clf = GDSoftmaxClassifier(max_iter=5).fit(X, y)
    with pytest.raises(ValueError, match="X has 5 features, but GDSoftmaxClassifier is expecting 6"):
        clf.predict(X[:, :5])
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        GDSoftmaxClassifier().partial_fit(X, y)
    with pytest.raises(ValueError, match=r"y contains classes \[7\] not seen"):
        clf.partial_fit(X, np.where(y == 0, 7, y))


def test_failed_partial_fit_leaves_model_untouched():
    """A partial_fit that fails (divergence or bad y) keeps the previous parameters."""
    X, y = _data(3)
    clf = GDSoftmaxClassifier(solver="gd", learning_rate=0.1, learning_rate_schedule="constant")
    clf.partial_fit(X, y, classes=[0, 1, 2])
    coef, intercept, n_iter = clf.coef_.copy(), clf.intercept_.copy(), clf.n_iter_
    clf.set_params(learning_rate=1e300)
    for _ in range(3):
        with pytest.raises(DivergenceError, match="non-finite; reduce learning_rate"):
            clf.partial_fit(X * 1e10, y)
    assert_array_equal(clf.coef_, coef)
    assert_array_equal(clf.intercept_, intercept)
    assert clf.n_iter_ == n_iter
    assert np.all(np.isfinite(clf.coef_))


@pytest.mark.parametrize("solver, rate", [("apgd", 1.0), ("pgd", 1.0), ("gd", 0.5), ("sgd", 0.5)])
def test_auto_learning_rate(solver, rate):
    """learning_rate='auto' (the default) is the unit step for the preconditioned solvers, 0.5 otherwise."""
    X, y = _data(3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        auto = GDSoftmaxClassifier(solver=solver, max_iter=5, random_state=0).fit(X, y)
        explicit = GDSoftmaxClassifier(solver=solver, learning_rate=rate, max_iter=5,
                                       random_state=0).fit(X, y)
        other = GDSoftmaxClassifier(solver=solver, learning_rate=rate / 2, max_iter=5,
                                    random_state=0).fit(X, y)
    assert auto.get_params()["learning_rate"] == "auto"
    assert_array_equal(auto.coef_, explicit.coef_)
    assert_array_equal(auto.loss_curve_, explicit.loss_curve_)
    assert not np.allclose(auto.coef_, other.coef_)


def test_default_solver_is_apgd():
    """The default fit is 'apgd' with the unit step; solver='gd' stays the plain update."""
    X, y = _data(3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        default = GDSoftmaxClassifier(max_iter=5).fit(X, y)
        apgd = GDSoftmaxClassifier(solver="apgd", learning_rate=1.0, max_iter=5).fit(X, y)
    assert_array_equal(default.coef_, apgd.coef_)


def test_clone_keeps_params():
    clf = GDSoftmaxClassifier(learning_rate=0.3, solver="adam")
    assert clone(clf).get_params() == clf.get_params()


def test_adaptive_rate_has_a_floor_under_partial_fit():
    """Repeated partial_fit calls never push the adaptive rate below 1e-6."""
    X, y = _data(3)
    clf = GDSoftmaxClassifier(solver="sgd", learning_rate=1e-5, n_iter_no_change=1, tol=10.0)
    for _ in range(12):
        clf.partial_fit(X, y, classes=[0, 1, 2])
    assert clf._training_state.schedule.learning_rate >= 1e-6
    assert np.all(np.isfinite(clf.coef_))
