"""Regression tests for GDSoftmaxClassifier's training state across calls.

Each test reproduces a silently wrong model (or an unclear failure) in an
ordinary workflow: streaming ``partial_fit``, ``warm_start`` refits, edited
``coef_``, early stopping on a degenerate split, extreme sample weights,
Ctrl-C. References are independent: ``scipy.special.softmax`` /
``log_softmax`` for scores, probabilities and the loss, an explicit gradient
step for the update, ``train_test_split`` for the validation rows.
"""

import sys
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import log_softmax, softmax
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

import sklearn_gabor._softmax as softmax_module
from sklearn_gabor import GDSoftmaxClassifier

ALPHA = 1e-4  # the default


def _stream_data():
    X, y = make_classification(
        n_samples=20000, n_features=20, n_informative=3, n_classes=3, random_state=0
    )
    return train_test_split(X, y, train_size=15000, random_state=0)


def _full_weights(clf):
    """``(W, b)`` with one row per class, from the public ``coef_`` / ``intercept_``."""
    return clf.coef_.astype(np.float64), clf.intercept_.astype(np.float64)


def _reference_loss_grad(W, b, X, y, alpha=ALPHA):
    """Mean cross-entropy + (alpha/2)||W||^2 and its gradient, from scipy's softmax."""
    O = X @ W.T + b
    Y = np.eye(W.shape[0])[y]
    loss = -np.mean(log_softmax(O, axis=1)[np.arange(len(y)), y]) + 0.5 * alpha * np.sum(W * W)
    G = (softmax(O, axis=1) - Y) / len(y)
    return loss, G.T @ X + alpha * W, G.sum(axis=0)


# ------------------------------------------------------------- streaming
@pytest.mark.parametrize(
    "params", [{"solver": "gd"}, {"solver": "sgd", "learning_rate": 0.05}], ids=["gd", "sgd"]
)
def test_streaming_partial_fit_keeps_learning(params):
    """150 chunks of 100 rows: held-out accuracy within 1 point of fit on the same rows.

    The loss of the previous call, on another chunk, used to be compared with
    this chunk's: every normal rise undid the step and divided the rate by 5
    (0.5 -> 1.3e-6), and 'sgd' kept its best loss over all chunks.
    """
    X, X_test, y, y_test = _stream_data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        full = GDSoftmaxClassifier(random_state=0, **params).fit(X, y)
    streams = []
    for schedule in ("adaptive", "constant"):
        stream = GDSoftmaxClassifier(random_state=0, learning_rate_schedule=schedule, **params)
        for start in range(0, 15000, 100):
            stream.partial_fit(X[start:start + 100], y[start:start + 100], classes=[0, 1, 2])
        streams.append(stream)
    stream = streams[0]
    assert stream.n_iter_ == 150 and stream.t_ == 15000
    assert stream.score(X_test, y_test) >= full.score(X_test, y_test) - 0.01
    # nothing overflowed, so the adaptive rate never moved: the same model as 'constant'
    assert_allclose(stream.coef_, streams[1].coef_, rtol=1e-12)


def test_partial_fit_never_undoes_a_step_across_chunks():
    """'gd' + 'adaptive': a chunk with a higher loss than the previous one still gets its step."""
    X, y = make_classification(n_samples=200, n_features=5, n_informative=3, n_redundant=0,
                               n_classes=3, n_clusters_per_class=1, random_state=1)  # fmt: skip
    easy, hard = slice(0, 100), slice(100, 200)
    y_hard = y.copy()
    y_hard[100:] = np.random.default_rng(0).integers(0, 3, 100)  # noisy labels: higher loss
    clf = GDSoftmaxClassifier(solver="gd", learning_rate=0.5)
    for _ in range(5):
        clf.partial_fit(X[easy], y[easy], classes=[0, 1, 2])
    W, b = _full_weights(clf)
    loss_easy = clf.loss_curve_[-1]
    loss_hard, gW, gb = _reference_loss_grad(W, b, X[hard], y_hard[hard])
    assert loss_hard > loss_easy  # the situation that used to trigger a rollback
    clf.partial_fit(X[hard], y_hard[hard])
    assert_allclose(clf.loss_curve_[-1], loss_hard, rtol=1e-10)
    assert_allclose(clf.coef_, W - 0.5 * gW, rtol=1e-10, atol=1e-14)
    assert_allclose(clf.intercept_, b - 0.5 * gb, rtol=1e-10, atol=1e-14)


def test_warm_start_refit_starts_at_the_documented_rate():
    """A warm_start refit builds a new schedule at learning_rate; loss_curve_ is the new data's."""
    X, _, y, _ = _stream_data()
    X_new, y_new = make_classification(n_samples=500, n_features=20, n_informative=3,
                                       n_classes=3, random_state=1)  # fmt: skip
    clf = GDSoftmaxClassifier(solver="gd", learning_rate=5.0, warm_start=True, max_iter=40)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)  # 5.0 is too large here: the adaptive schedule divides it
        W, b = _full_weights(clf)
        clf.set_params(max_iter=1).fit(X_new, y_new)
    loss, gW, gb = _reference_loss_grad(W, b, X_new, y_new)
    assert clf.n_iter_ == len(clf.loss_curve_) == 1
    assert_allclose(clf.loss_curve_, [loss], rtol=1e-10)
    assert_allclose(clf.coef_, W - 5.0 * gW, rtol=1e-10, atol=1e-14)
    assert_allclose(clf.intercept_, b - 5.0 * gb, rtol=1e-10, atol=1e-14)


# ------------------------------------------------------- one set of weights
@pytest.mark.parametrize("n_classes", [2, 3])
def test_edited_coef_changes_every_prediction_path(n_classes):
    """predict, decision_function, predict_proba and predict_log_proba all read coef_/intercept_."""
    X, y = make_classification(n_samples=200, n_features=6, n_informative=4, n_redundant=0,
                               n_classes=n_classes, random_state=0)  # fmt: skip
    clf = GDSoftmaxClassifier(max_iter=20)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    rng = np.random.default_rng(0)
    clf.coef_ = rng.normal(size=clf.coef_.shape)
    clf.intercept_ = rng.normal(size=clf.intercept_.shape)
    scores = X @ clf.coef_.T + clf.intercept_
    logits = np.hstack([np.zeros_like(scores), scores]) if n_classes == 2 else scores
    assert_allclose(clf.decision_function(X), scores.ravel() if n_classes == 2 else scores)
    assert_allclose(clf.predict_proba(X), softmax(logits, axis=1), rtol=1e-10, atol=1e-15)
    assert_allclose(clf.predict_log_proba(X), log_softmax(logits, axis=1), rtol=1e-10, atol=1e-12)
    assert_array_equal(clf.predict(X), np.argmax(logits, axis=1))


def test_warm_start_with_fit_intercept_changed():
    """fit_intercept=True -> False under warm_start: intercept_ is 0 and every path agrees."""
    X, y = make_classification(n_samples=200, n_features=6, n_informative=4, n_redundant=0,
                               n_classes=3, shift=2.0, random_state=0)  # fmt: skip
    clf = GDSoftmaxClassifier(max_iter=50, warm_start=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
        assert np.abs(clf.intercept_).max() > 0.1
        clf.set_params(fit_intercept=False, max_iter=5).fit(X, y)
    assert_array_equal(clf.intercept_, 0.0)
    proba = softmax(X @ clf.coef_.T, axis=1)
    assert_allclose(clf.predict_proba(X), proba, rtol=1e-10, atol=1e-15)
    assert_array_equal(clf.predict(X), np.argmax(proba, axis=1))


# ------------------------------------------------------------ early stopping
def _split_rows(y, random_state, stratify):
    n = len(y)
    return train_test_split(
        np.arange(n), test_size=0.1, random_state=random_state, stratify=y if stratify else None
    )


@pytest.mark.parametrize("solver", ["gd", "pgd", "apgd", "sgd", "adam"])
def test_all_weight_on_validation_rows_is_a_clear_error(solver):
    """Used to raise a DivergenceError blaming X ('gd', 'pgd') or return loss_curve_ = [inf, ...]."""
    X, y = make_classification(n_samples=200, n_features=6, n_informative=4, n_redundant=0,
                               n_classes=3, random_state=0)  # fmt: skip
    _, val = _split_rows(y, 0, stratify=True)
    sw = np.zeros(len(y))
    sw[val] = 1.0
    clf = GDSoftmaxClassifier(solver=solver, early_stopping=True, random_state=0)
    with pytest.raises(ValueError, match=r"sample_weight.*validation_fraction=0\.1"):
        clf.fit(X, y, sample_weight=sw)
    assert not hasattr(clf, "coef_")


def test_class_only_in_validation_is_a_clear_error():
    """A one-sample class that lands in the validation part used to be dropped without a word."""
    X, y = make_classification(n_samples=200, n_features=6, n_informative=4, n_redundant=0,
                               n_classes=2, random_state=0)  # fmt: skip
    y[17] = 2  # the only sample of class 2
    seed = next(s for s in range(100) if 17 in _split_rows(y, s, stratify=False)[1])
    clf = GDSoftmaxClassifier(early_stopping=True, random_state=seed)
    with pytest.raises(ValueError, match=r"early_stopping=True.*class\(es\) \[2\]"):
        clf.fit(X, y)
    # where the split keeps it for training, the fit goes through with 3 classes
    other = next(s for s in range(100) if 17 in _split_rows(y, s, stratify=False)[0])
    clf.set_params(random_state=other, max_iter=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        assert clf.fit(X, y).coef_.shape == (3, 6)


# ------------------------------------------------------------ sample weights
@pytest.mark.parametrize("scale", [1e-50, 1e39])
def test_extreme_sample_weights_on_float32(scale):
    """Weights are normalized in float64, then cast: 1e-50 or 1e39 on float32 X act like 1."""
    X, y = make_classification(n_samples=200, n_features=6, n_informative=4, n_redundant=0,
                               n_classes=3, random_state=0)  # fmt: skip
    X = X.astype(np.float32)
    sw = np.random.default_rng(0).uniform(0.5, 2.0, size=len(y))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = GDSoftmaxClassifier(max_iter=30).fit(X, y, sample_weight=sw)
        got = GDSoftmaxClassifier(max_iter=30).fit(X, y, sample_weight=sw * scale)
    assert got.coef_.dtype == np.float32
    assert_allclose(got.coef_, ref.coef_, rtol=1e-5, atol=1e-6)


# --------------------------------------------------------------- parameters
def test_invscaling_huge_power_t_is_a_clear_error():
    """power_t=1e3 used to raise OverflowError at the second epoch."""
    X, y = make_classification(n_samples=50, n_features=4, n_classes=2, random_state=0)
    clf = GDSoftmaxClassifier(learning_rate_schedule="invscaling", power_t=1e3)
    with pytest.raises(ValueError, match=r"'power_t' parameter .* range \[0(\.0)?, 1(\.0)?\]"):
        clf.fit(X, y)


def test_partial_fit_docstring_states_when_it_equals_fit():
    """The docstring used to promise equality with fit(max_iter=N, tol=0) for every solver."""
    doc = " ".join(GDSoftmaxClassifier.partial_fit.__doc__.split())
    assert "n_iter_no_change" in doc and "only as long as" in doc
    # and the exception it names is real: 'sgd' + 'constant' fit stops, partial_fit goes on
    X, y = make_classification(n_samples=200, n_features=6, n_informative=4, n_redundant=0,
                               n_classes=3, random_state=0)  # fmt: skip
    params = {"solver": "sgd", "learning_rate_schedule": "constant", "learning_rate": 0.05,
                  "tol": 1e-2, "n_iter_no_change": 2, "shuffle": False}  # fmt: skip
    full = GDSoftmaxClassifier(max_iter=300, **params).fit(X, y)
    assert full.n_iter_ < 300
    inc = GDSoftmaxClassifier(**params)
    for _ in range(full.n_iter_ + 5):
        inc.partial_fit(X, y, classes=[0, 1, 2])
    assert inc.n_iter_ == full.n_iter_ + 5


# ------------------------------------------------------------------- Ctrl-C
def test_ctrl_c_keeps_the_weights_reached_so_far(monkeypatch):
    """KeyboardInterrupt in epoch 6 keeps the model of epoch 5 and warns (as MLPClassifier)."""
    X, y = make_classification(n_samples=200, n_features=6, n_informative=4, n_redundant=0,
                               n_classes=3, random_state=0)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = GDSoftmaxClassifier(max_iter=5).fit(X, y)
    calls = []
    loop = sys.modules[softmax_module._Run.__module__]  # where the epoch loop lives
    real = loop._loss_grad

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 6:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(loop, "_loss_grad", interrupted)
    clf = GDSoftmaxClassifier(max_iter=50)
    try:
        with pytest.warns(UserWarning, match="Training interrupted by user"):
            clf.fit(X, y)
    except KeyboardInterrupt:
        pytest.fail("Ctrl-C threw away the training")
    assert clf.n_iter_ == 5
    assert_allclose(clf.coef_, ref.coef_, rtol=1e-12)
    assert_allclose(clf.loss_curve_, ref.loss_curve_, rtol=1e-12)
