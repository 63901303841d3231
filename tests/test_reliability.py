"""Reliability, tried systematically: every public entry point against a
catalogue of bad inputs, divergence over a grid of learning rates,
persistence, concurrency and dataset failures.

Each bad input gives either the correct result (compared with the same call
on a clean float64 copy) or an error whose type and message are asserted; a
failed fit/partial_fit leaves a fitted estimator exactly as it was.
"""

import pickle
import os
import warnings
from concurrent.futures import ThreadPoolExecutor

import joblib
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning, InconsistentVersionWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn_gabor.utils._sklearn_compat import InvalidParameterError

import sklearn_gabor
from sklearn_gabor import GaborTransformer, GDSoftmaxClassifier
from sklearn_gabor._cli import main
from sklearn_gabor.datasets import (
    CorruptDatasetError,
    DatasetNotFoundError,
    _cifar,
    fetch_cifar10,
    load_cats_vs_dogs,
    make_gratings,
)
from sklearn_gabor.exceptions import DivergenceError
from sklearn_gabor.utils import _persistence
from sklearn_gabor.utils._persistence import SklearnGaborVersionWarning

from test_datasets import FOLDER, FakeOpener, leftovers, make_archive, write_cifar

RNG = np.random.RandomState(0)
N, SIDE = 30, 4
D = SIDE * SIDE
X0 = RNG.rand(N, D)
Y0 = np.arange(N) % 3


def _clf():
    return GDSoftmaxClassifier(max_iter=20, random_state=0)


def _gabor():
    return GaborTransformer((SIDE, SIDE), frequencies=(0.2, 0.4), n_orientations=2, pool_grid=(2, 2))


@pytest.fixture(scope="module")
def fitted():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = _clf().fit(X0, Y0)
    return clf, _gabor().fit(X0)


# ---------------------------------------------------------------- catalogue
def _readonly(a):
    a = a.copy()
    a.setflags(write=False)
    return a


def _strided(a):
    return np.repeat(a, 2, axis=1)[:, ::2]  # a non-contiguous view


NAMES = [f"px{i}" for i in range(D)]
# name -> (bad X, the clean float64 equivalent or None when an error is expected)
CASES = {
    "nan": (np.where(np.eye(N, D) > 0, np.nan, X0), None),
    "+inf": (np.where(np.eye(N, D) > 0, np.inf, X0), None),
    "-inf": (np.where(np.eye(N, D) > 0, -np.inf, X0), None),
    "empty-rows": (np.empty((0, D)), None),
    "empty-cols": (np.empty((N, 0)), None),
    "1-D": (X0[:, 0], None),
    "3-D": (X0.reshape(N, SIDE, SIDE), None),
    "complex": (X0 + 0j, None),
    "strings": (np.full((N, D), "a"), None),
    "object-strings": (np.full((N, D), "a", dtype=object), None),
    "object-numbers": (X0.astype(object), X0),
    "bool": (X0 > 0.5, (X0 > 0.5).astype(float)),
    "uint8": ((X0 * 255).astype(np.uint8), (X0 * 255).astype(np.uint8).astype(float)),
    "int64-out-of-8-bit": ((X0 * 1000).astype(np.int64), (X0 * 1000).astype(np.int64).astype(float)),
    "float16": (X0.astype(np.float16), X0.astype(np.float16).astype(float)),
    "float32": (X0.astype(np.float32), X0.astype(np.float32).astype(float)),
    "fortran-order": (np.asfortranarray(X0), X0),
    "strided-view": (_strided(X0), X0),
    "read-only": (_readonly(X0), X0),
    "list-of-lists": (X0.tolist(), X0),
    "dataframe-names": (pd.DataFrame(X0, columns=NAMES), X0),
    "dataframe-no-names": (pd.DataFrame(X0), X0),
    "csr": (sp.csr_matrix(X0), X0),
    "huge-1e30": (X0 * 1e30, X0 * 1e30),
    "huge-1e300": (X0 * 1e300, X0 * 1e300),
}

# errors common to every entry point: (type, message regex)
COMMON_ERRORS = {
    "nan": (ValueError, "Input X contains NaN"),
    "+inf": (ValueError, "Input X contains infinity"),
    "-inf": (ValueError, "Input X contains infinity"),
    "empty-rows": (ValueError, r"Found array with 0 sample\(s\)"),
    "empty-cols": (ValueError, r"Found array with 0 feature\(s\)"),
    "1-D": (ValueError, "Expected 2D array, got 1D array instead"),
    "3-D": (ValueError, "Found array with dim 3"),
    "complex": (ValueError, "Complex data not supported"),
    "strings": (ValueError, "could not convert string to float|not compatible with arrays of bytes/strings"),
    "object-strings": (ValueError, "could not convert string to float"),
}
GABOR_ERRORS = {
    **COMMON_ERRORS,
    "int64-out-of-8-bit": (ValueError, r"Integer X is read as 8-bit images .* \[0, 255\]"),
    "csr": (ValueError, r"does not accept sparse X.*X.toarray\(\)"),
    "huge-1e300": (ValueError, r"features overflowed to inf or NaN.*dtype='float64'"),
}


def _gabor_clean(name, X):
    # integer images are read as 8-bit and scaled by 1/255
    return X / 255 if name in ("uint8",) else X


def _clf_fit(X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return _clf().fit(X, y).predict_proba(X0)


def _clf_partial_fit(X, y):
    return _clf().partial_fit(X, y, classes=[0, 1, 2]).predict_proba(X0)


ENTRY_POINTS = {
    # name: (callable(X, fitted), errors table, clean-X transform)
    "GDSoftmaxClassifier.fit": (lambda X, f: _clf_fit(X, Y0), COMMON_ERRORS, None),
    "GDSoftmaxClassifier.partial_fit": (lambda X, f: _clf_partial_fit(X, Y0), COMMON_ERRORS, None),
    "GDSoftmaxClassifier.predict": (lambda X, f: f[0].predict(X), COMMON_ERRORS, None),
    "GDSoftmaxClassifier.predict_proba": (lambda X, f: f[0].predict_proba(X), COMMON_ERRORS, None),
    "GDSoftmaxClassifier.decision_function": (lambda X, f: f[0].decision_function(X), COMMON_ERRORS, None),
    "GaborTransformer.fit_transform": (lambda X, f: _gabor().fit_transform(X), GABOR_ERRORS, _gabor_clean),
    "GaborTransformer.transform": (lambda X, f: f[1].transform(X), GABOR_ERRORS, _gabor_clean),
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
def test_bad_input_catalogue(entry, case, fitted):
    """Each (entry point, input) pair: a correct result or a specific error."""
    call, errors, clean = ENTRY_POINTS[entry]
    X, X_clean = CASES[case]
    if case in errors:
        err, match = errors[case]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # numpy overflow notes
            with pytest.raises(err, match=match):
                call(X, fitted)
        return
    assert X_clean is not None, f"{case} was expected to fail"
    if entry.startswith("GDSoftmaxClassifier.") and entry.endswith("fit") and case == "huge-1e300":
        # the default solver's curvature bound X^T X overflows: refused up front
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # numpy overflow notes
            with pytest.raises(ValueError, match=r"curvature bound .* overflowed.*too large"):
                call(X, fitted)
        gd = GDSoftmaxClassifier(solver="gd", max_iter=20, random_state=0)
        if entry.endswith(".fit"):
            # 'gd': every step overflows the scores: the adaptive schedule gives up, loudly
            with pytest.warns(ConvergenceWarning, match="adaptive schedule stopped training"):
                gd.fit(X, Y0)
        else:
            # 'gd': one unchecked step whose scores overflow: refused, nothing is kept
            with pytest.raises(DivergenceError, match=r"non-finite class scores W x \+ b on the training data"):
                gd.partial_fit(X, Y0, classes=[0, 1, 2])
            assert not hasattr(gd, "coef_")
        return
    with warnings.catch_warnings():
        # a DataFrame without names after fitting on an ndarray is fine
        warnings.simplefilter("error", RuntimeWarning)
        got = call(X, fitted)
        want = call((clean or (lambda n, a: a))(case, X_clean), fitted)
    assert isinstance(got, np.ndarray)
    if got.dtype.kind == "f":
        assert np.all(np.isfinite(got))
    if case == "csr":  # sparse products sum in another order: equal to 1 ulp
        assert_allclose(got, want, rtol=1e-12, atol=1e-15)
    elif case in ("float16", "float32", "uint8", "huge-1e30") and entry.startswith("Gabor"):
        assert_allclose(got, want, rtol=2e-5, atol=1e-6 * float(np.abs(want).max()))
    elif case == "float32" and entry.endswith(("fit", "proba", "function")):
        # float32 stays float32 in the classifier: same result to float32 precision
        if not entry.endswith("fit"):
            assert got.dtype == np.float32
        assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    elif case in ("fortran-order", "strided-view", "dataframe-names", "dataframe-no-names") \
            and entry.endswith("fit"):
        # the memory layout changes the order in which BLAS sums X^T D X, the
        # curvature bound of the default solver: equal to rounding
        assert_allclose(got, want, rtol=1e-12, atol=1e-15)
    else:
        assert_array_equal(got, want)


def test_wrong_n_features_and_image_shape_after_fit(fitted):
    clf, gt = fitted
    for method in (clf.predict, clf.predict_proba, clf.decision_function, gt.transform):
        with pytest.raises(ValueError, match=f"X has {D - 1} features, but .* is expecting {D} features"):
            method(X0[:, :-1])
    with pytest.raises(ValueError, match=r"X has 16 features, but image_shape=\(5, 5\) requires H \* W \* C = 25"):
        GaborTransformer((5, 5)).fit(X0)
    with pytest.raises(ValueError, match=r"image_shape must be \(H, W\) or \(H, W, C\) with positive ints"):
        GaborTransformer((4, 4.0)).fit(X0)


def test_feature_names_are_checked(fitted):
    df = pd.DataFrame(X0, columns=NAMES)
    clf = _clf_fit_obj(df)
    assert list(clf.feature_names_in_) == NAMES
    with pytest.raises(ValueError, match="The feature names should match those that were passed during fit"):
        clf.predict(df.rename(columns={"px0": "other"}))
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        clf.predict(X0)
    gt = _gabor().fit(df)
    with pytest.raises(ValueError, match="The feature names should match"):
        gt.transform(df[NAMES[::-1]])


def _clf_fit_obj(X, y=Y0, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return GDSoftmaxClassifier(max_iter=20, random_state=0, **params).fit(X, y)


def test_one_sample_and_one_class():
    with pytest.raises(ValueError, match="at least 2 classes in the data, but the data contains only one class: 0"):
        GDSoftmaxClassifier().fit(X0[:1], Y0[:1])
    with pytest.raises(ValueError, match="only one class: 'cat'"):
        GDSoftmaxClassifier().fit(X0, np.full(N, "cat"))
    # one sample is a valid partial_fit step once the classes are known
    clf = GDSoftmaxClassifier().partial_fit(X0[:1], Y0[:1], classes=[0, 1, 2])
    assert np.all(np.isfinite(clf.coef_)) and clf.t_ == 1
    # and one image is a valid input of the transformer
    assert _gabor().fit(X0[:1]).transform(X0[:1]).shape == (1, 4 * 4)


# ------------------------------------------------------------ invalid params
@pytest.mark.parametrize(
    "params, err, match",
    [
        ({"learning_rate": "0.1"}, InvalidParameterError, r"'learning_rate' parameter .* Got '0.1'"),
        ({"learning_rate": np.nan}, InvalidParameterError, r"'learning_rate' parameter .* Got nan"),
        ({"learning_rate": np.inf}, InvalidParameterError, r"'learning_rate' parameter .* Got inf"),
        ({"max_iter": 1.5}, InvalidParameterError, r"'max_iter' parameter must be|'max_iter' parameter of"),
        ({"tol": np.nan}, InvalidParameterError, r"'tol' parameter"),
        ({"alpha": np.inf}, InvalidParameterError, r"'alpha' parameter"),
        ({"random_state": "seed"}, InvalidParameterError, r"'random_state' parameter"),
        ({"fit_intercept": "yes"}, InvalidParameterError, r"'fit_intercept' parameter"),
        ({"momentum": 1.0}, InvalidParameterError, r"'momentum' parameter .* \[0.0, 1.0\)"),
        ({"validation_fraction": 1.0}, InvalidParameterError, r"'validation_fraction' parameter"),
        ({"class_weight": "auto"}, InvalidParameterError, r"'class_weight' parameter"),
        ({"class_weight": {0: -1.0}}, ValueError, r"class_weight values must be finite and >= 0"),
        ({"class_weight": {0: np.nan}}, ValueError, r"class_weight values must be finite and >= 0"),
        ({"class_weight": {0: 1, 7: 2}}, ValueError, r"The classes, \[1, 2\], are not in class_weight"),
    ],
)
def test_invalid_classifier_parameters(params, err, match):
    clf = GDSoftmaxClassifier(**params)
    with pytest.raises(err, match=match):
        clf.fit(X0, Y0)
    assert not hasattr(clf, "coef_") and not hasattr(clf, "n_features_in_")


@pytest.mark.parametrize(
    "params, err, match",
    [
        ({"n_jobs": 0}, InvalidParameterError, r"'n_jobs' parameter of GaborTransformer .* Got 0"),
        ({"n_jobs": 2.0}, InvalidParameterError, r"'n_jobs' parameter"),
        ({"image_shape": "4x4"}, InvalidParameterError, r"'image_shape' parameter"),
        ({"image_shape": (True, 16)}, ValueError, r"image_shape must be \(H, W\) or \(H, W, C\)"),
        ({"image_shape": (4, 4, 1, 1)}, ValueError, r"image_shape must be"),
        ({"frequencies": np.nan}, InvalidParameterError, r"'frequencies' parameter"),
        ({"frequencies": [[0.1]]}, ValueError, r"non-empty 1-D sequence"),
        ({"offset": np.inf}, InvalidParameterError, r"'offset' parameter"),
        ({"pool_grid": (2.5, 2)}, ValueError, r"pool_grid must be a pair of ints >= 1"),
        ({"pool_stats": ()}, ValueError, r"pool_stats must be a non-empty sequence"),
        ({"dtype": "float16"}, InvalidParameterError, r"'dtype' parameter"),
        ({"thetas": []}, ValueError, r"thetas must be a non-empty 1-D sequence"),
    ],
)
def test_invalid_transformer_parameters(params, err, match):
    gt = GaborTransformer(**{"image_shape": (SIDE, SIDE), **params})
    with pytest.raises(err, match=match):
        gt.fit(X0)
    assert not hasattr(gt, "kernels_") and not hasattr(gt, "n_features_in_")


# ----------------------------------------------- no half-updated estimators
def _snapshot(est):
    return {k: (v.copy() if isinstance(v, np.ndarray) else pickle.dumps(v)) for k, v in vars(est).items()}


def _assert_same_state(est, snap):
    now = _snapshot(est)
    assert now.keys() == snap.keys()
    for k in snap:
        if isinstance(snap[k], np.ndarray):
            assert_array_equal(now[k], snap[k], err_msg=k)
        else:
            assert now[k] == snap[k], k


@pytest.mark.parametrize(
    "name, call, err, match",
    [
        ("nan", lambda c: c.partial_fit(np.full((3, D), np.nan), [0, 1, 2]), ValueError, "NaN"),
        ("inf", lambda c: c.partial_fit(np.full((3, D), np.inf), [0, 1, 2]), ValueError, "infinity"),
        ("n_features", lambda c: c.partial_fit(X0[:, :5], Y0), ValueError, "X has 5 features"),
        ("new class", lambda c: c.partial_fit(X0, np.where(Y0 == 0, 9, Y0)), ValueError, r"y contains classes \[9\]"),
        ("classes changed", lambda c: c.partial_fit(X0, Y0, classes=[0, 1, 2, 3]), ValueError, "not the same as on the first call"),
        ("complex", lambda c: c.partial_fit(X0 + 1j, Y0), ValueError, "Complex data"),
        ("y length", lambda c: c.partial_fit(X0, Y0[:-1]), ValueError, "inconsistent numbers of samples"),
        ("sample_weight<0", lambda c: c.partial_fit(X0, Y0, sample_weight=-np.ones(N)), ValueError, "Negative values"),
        ("sparse n_features", lambda c: c.partial_fit(sp.csr_matrix(X0[:, :5]), Y0), ValueError, "X has 5 features"),
        ("strings", lambda c: c.partial_fit(np.full((N, D), "a"), Y0), ValueError, "could not convert string"),
        (
            "divergence",
            lambda c: c.set_params(learning_rate=1e300).partial_fit(X0 * 1e10, Y0),
            DivergenceError,
            "diverged|non-finite",
        ),
    ],
)
@pytest.mark.parametrize("solver", ["gd", "sgd", "adam"])
def test_failed_partial_fit_changes_nothing(name, call, err, match, solver):
    clf = GDSoftmaxClassifier(learning_rate=0.1, learning_rate_schedule="constant", solver=solver, random_state=0)
    clf.partial_fit(X0, Y0, classes=[0, 1, 2]).partial_fit(X0, Y0)
    params = clf.get_params()
    snap = _snapshot(clf)
    coef = clf.coef_.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(err, match=match):
            call(clf)
    clf.set_params(**params)
    _assert_same_state(clf, snap)
    assert_array_equal(clf.coef_, coef)
    # and it goes on from where it was, as if the failed call never happened
    ref = GDSoftmaxClassifier(learning_rate=0.1, learning_rate_schedule="constant", solver=solver, random_state=0)
    ref.partial_fit(X0, Y0, classes=[0, 1, 2]).partial_fit(X0, Y0).partial_fit(X0, Y0)
    assert_array_equal(clf.partial_fit(X0, Y0).coef_, ref.coef_)


def test_failed_refit_keeps_previous_model():
    """fit on new data that fails must not leave n_features_in_ of the new X."""
    clf = _clf_fit_obj(X0)
    snap = _snapshot(clf)
    with pytest.raises(ValueError, match="only one class"):
        clf.fit(RNG.rand(5, 3), np.zeros(5))
    _assert_same_state(clf, snap)
    assert clf.predict(X0).shape == (N,)

    gt = _gabor().fit(X0)
    snap = _snapshot(gt)
    with pytest.raises(ValueError, match=r"X has 25 features, but image_shape=\(4, 4\)"):
        gt.fit(RNG.rand(2, 25))
    _assert_same_state(gt, snap)
    assert gt.transform(X0).shape == (N, 16)


def test_inputs_are_not_modified(fitted):
    X, y, sw = X0.copy(), Y0.copy(), np.linspace(0.5, 2, N)
    sw_copy = sw.copy()
    for solver in ("gd", "sgd", "adam"):
        _clf_fit_obj(X, y, solver=solver, class_weight="balanced").fit(X, y, sample_weight=sw)
    fitted[0].predict_proba(X)
    _gabor().set_params(contrast_normalization=True).fit_transform(X)
    assert_array_equal(X, X0)
    assert_array_equal(y, Y0)
    assert_array_equal(sw, sw_copy)


# ---------------------------------------------------------------- divergence
def _problem(standardized):
    X, y = make_gratings(n_samples=90, image_shape=(4, 4), n_classes=3, noise=0.5, random_state=0)
    X = StandardScaler().fit_transform(X) if standardized else X * 1e3 + 50
    return X, y


RATES = [1e-6, 1e-3, 1e-1, 1.0, 1e2, 1e4, 1e8, 1e12]


@pytest.mark.parametrize("standardized", [True, False])
def test_learning_rate_grid_converges_or_raises(standardized):
    """Constant schedule: small rates train, large ones raise DivergenceError;
    the adaptive schedule gives a finite model (or a ConvergenceWarning) for all."""
    X, y = _problem(standardized)
    outcomes = {}
    for lr in RATES:
        clf = GDSoftmaxClassifier(solver="gd", learning_rate=lr, learning_rate_schedule="constant",
                                  max_iter=30, tol=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            try:
                clf.fit(X, y)
            except DivergenceError as exc:
                assert f"learning_rate={lr}" in str(exc) and "epoch" in str(exc)
                assert not hasattr(clf, "coef_")
                outcomes[lr] = "diverged"
                continue
        assert np.all(np.isfinite(clf.coef_)) and np.isfinite(clf.loss_)
        outcomes[lr] = "trained"
        if lr <= (1e-3 if standardized else 1e-6):  # stable steps: the loss never goes up
            assert np.all(np.diff(clf.loss_curve_) <= 1e-12)
    assert outcomes[1e-6] == outcomes[1e-3] == "trained"
    assert outcomes[1e12] == "diverged"
    first = RATES.index(next(lr for lr in RATES if outcomes[lr] == "diverged"))
    assert all(outcomes[lr] == "diverged" for lr in RATES[first:]), outcomes

    optimum = GDSoftmaxClassifier(solver="apgd", tol=1e-10, max_iter=3000).fit(X, y)
    for lr in RATES:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            clf = GDSoftmaxClassifier(solver="gd", learning_rate=lr, max_iter=60).fit(X, y)
        assert np.all(np.isfinite(clf.coef_))
        assert np.all(np.diff(clf.loss_curve_) <= 1e-9 * clf.loss_curve_[0])
        proba = clf.predict_proba(X)
        assert_allclose(proba.sum(axis=1), 1)
        if lr >= 1e-1 and standardized:  # no warning: it stopped at the optimum
            assert caught or clf.loss_ < optimum.loss_ + 1e-3


def test_adaptive_give_up_warns():
    """Values that overflow float32 even at tiny steps: the schedule gives up, loudly."""
    X = (X0 * 1e30).astype(np.float32)
    with pytest.warns(ConvergenceWarning, match=r"adaptive schedule stopped training because learning_rate fell below 1e-06"):
        clf = GDSoftmaxClassifier(solver="gd", max_iter=50).fit(X, Y0)
    assert np.all(np.isfinite(clf.coef_))
    # the default solver squares X for its curvature bound: refused before any step
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(ValueError, match="curvature bound .* overflowed"):
            GDSoftmaxClassifier(max_iter=50).fit(X, Y0)
    with pytest.raises(DivergenceError, match="non-finite class scores W x \\+ b on the training data"):
        GDSoftmaxClassifier(solver="sgd", max_iter=50).fit(X, Y0)


def test_grid_search_over_absurd_rates_picks_a_finite_model():
    X, y = _problem(standardized=False)
    search = GridSearchCV(
        GDSoftmaxClassifier(solver="gd", learning_rate_schedule="constant", max_iter=30),
        {"learning_rate": RATES},
        cv=3,
        error_score=np.nan,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # FitFailedWarning, ConvergenceWarning
        search.fit(X, y)
    scores = search.cv_results_["mean_test_score"]
    assert np.isnan(scores[-1]) and np.isfinite(scores[0])
    assert np.isfinite(search.best_score_)
    best = search.best_estimator_
    assert np.all(np.isfinite(best.coef_))
    assert np.all(np.isfinite(best.predict_proba(X)))


def test_huge_sample_weights_are_not_an_untrained_model():
    """Weights whose sum overflows used to become zeros (coef_ stayed 0)."""
    ref = _clf_fit_obj(X0)
    got = _clf_fit_obj(X0, sample_weight=None) if False else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        got = _clf().fit(X0, Y0, sample_weight=np.full(N, 1e308))
    assert_allclose(got.coef_, ref.coef_, rtol=1e-12, atol=1e-15)


def test_overflowing_scores_raise_at_predict(fitted):
    """float32 X near its maximum: the scores overflow; NaN probabilities used to come out."""
    clf = fitted[0]
    assert np.abs(clf.coef_).sum(axis=1).min() > 1.5
    X = (np.sign(clf.coef_) * np.finfo(np.float32).max).astype(np.float32)
    for method in (clf.predict_proba, clf.predict_log_proba, clf.predict, clf.decision_function):
        with pytest.raises(ValueError, match=r"class scores W x \+ b overflowed to inf or NaN for \d of 3 samples.*float32"):
            method(X)


# ---------------------------------------------------------------- persistence
def _fitted_objects():
    X, y = make_gratings(n_samples=40, image_shape=(8, 8), n_classes=2, random_state=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        objs = {
            f"softmax-{s}": GDSoftmaxClassifier(solver=s, max_iter=20, random_state=0).fit(X, y)
            for s in ("gd", "sgd", "adam")
        }
        objs["gabor"] = GaborTransformer((8, 8), frequencies=(0.1, 0.3), n_orientations=4).fit(X)
        objs["pipeline"] = make_pipeline(
            GaborTransformer((8, 8), frequencies=(0.1, 0.3), n_orientations=4),
            StandardScaler(),
            GDSoftmaxClassifier(max_iter=20),
        ).fit(X, y)
    return objs, X


def _outputs(obj, X):
    if hasattr(obj, "predict_proba"):
        return [obj.predict(X), obj.predict_proba(X)]
    return [obj.transform(X)]


def test_pickle_and_joblib_round_trips(tmp_path):
    objs, X = _fitted_objects()
    for name, obj in objs.items():
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # same version: no warning at all
            copies = [pickle.loads(pickle.dumps(obj, protocol=p)) for p in (2, pickle.HIGHEST_PROTOCOL)]
            joblib.dump(obj, tmp_path / f"{name}.joblib", compress=3)
            copies.append(joblib.load(tmp_path / f"{name}.joblib"))
        for copy in copies:
            for a, b in zip(_outputs(copy, X), _outputs(obj, X)):
                assert_array_equal(a, b, err_msg=name)
        assert "_sklearn_gabor_version" not in vars(obj)  # the live object is not stamped


def _pickled_under(monkeypatch, obj, gabor=None, sklearn=None):
    if gabor is not None:
        monkeypatch.setattr(_persistence, "_current_version", lambda: gabor)
    if sklearn is not None:
        monkeypatch.setattr(_persistence, "_current_sklearn_version", lambda: sklearn)
    data = pickle.dumps(obj)
    monkeypatch.undo()
    return data


@pytest.mark.parametrize("name", ["softmax-gd", "gabor"])
def test_unpickling_another_version_warns(monkeypatch, name):
    objs, X = _fitted_objects()
    obj = objs[name]
    cls = type(obj).__name__
    current = sklearn_gabor.__version__
    data = _pickled_under(monkeypatch, obj, gabor="0.0.1")
    with pytest.warns(SklearnGaborVersionWarning, match=f"{cls} from sklearn-gabor version 0.0.1 when using version {current}") as rec:
        again = pickle.loads(data)
    assert rec[0].message.original_sklearn_version == "0.0.1"
    assert isinstance(rec[0].message, InconsistentVersionWarning)
    for a, b in zip(_outputs(again, X), _outputs(obj, X)):
        assert_array_equal(a, b)
    assert "_sklearn_gabor_version" not in vars(again)

    # another scikit-learn: the plain scikit-learn warning, as its own estimators give
    data = _pickled_under(monkeypatch, obj, sklearn="0.24.2")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pickle.loads(data)
    kinds = [type(w.message) for w in caught]
    assert kinds == [InconsistentVersionWarning], kinds
    assert "from version 0.24.2" in str(caught[0].message)

    # a pickle from before the stamps (state edited by hand)
    state = obj.__getstate__()
    del state["_sklearn_gabor_version"]
    fresh = type(obj).__new__(type(obj))
    with pytest.warns(SklearnGaborVersionWarning, match="unknown"):
        fresh.__setstate__(state)


# ---------------------------------------------------------------- concurrency
def test_threads_give_the_serial_results():
    objs, X = _fitted_objects()
    gt, clf = objs["gabor"], objs["softmax-adam"]
    chunks = [X[i::4] for i in range(4)] * 3
    serial_t = [gt.transform(c) for c in chunks]
    serial_p = [clf.predict_proba(c) for c in chunks]
    with ThreadPoolExecutor(max_workers=6) as pool:
        par_t = list(pool.map(gt.transform, chunks))
        par_p = list(pool.map(clf.predict_proba, chunks))
        par_y = list(pool.map(clf.predict, chunks))
    for a, b in zip(par_t, serial_t):
        assert_array_equal(a, b)
    for a, b, y in zip(par_p, serial_p, par_y):
        assert_array_equal(a, b)
        assert_array_equal(y, clf.classes_[np.argmax(b, axis=1)])


@pytest.mark.parametrize(
    "params",
    [{}, {"order": 2, "frequencies": (0.1, 0.2, 0.4)}, {"flip_invariant": True, "color": "opponent"}],
)
def test_n_jobs_gives_identical_features(params):
    """Batches transformed in parallel threads give the features of one sequential pass."""
    X, _ = make_gratings(n_samples=20, image_shape=(16, 16, 3), random_state=0)
    ref = GaborTransformer((16, 16, 3), n_jobs=None, **params).fit_transform(X)
    for n_jobs in (1, 2, -1):
        got = GaborTransformer((16, 16, 3), n_jobs=n_jobs, batch_size=7, **params).fit_transform(X)
        assert_array_equal(got, ref, err_msg=f"n_jobs={n_jobs}")


def test_features_do_not_depend_on_batch_composition():
    """Every image's features are bit for bit the same whatever the batch size,
    the order of the rows and the threads (the maps-last products run on
    whole blocks of maps with one BLAS thread), on the recipe's kind of bank."""
    X, _ = make_gratings(n_samples=37, image_shape=(32, 32, 3), random_state=1)
    params = dict(frequencies=(0.1, 0.2, 0.4), order=2, flip_invariant=True, color="opponent",
                  mode="wrap", compression="sqrt", contrast_normalization=True)
    ref = GaborTransformer((32, 32, 3), batch_size=256, **params).fit(X).transform(X)
    order = np.random.RandomState(0).permutation(len(X))
    for batch_size, n_jobs in [(1, None), (5, 2), (16, None), (33, -1), (256, 2)]:
        gt = GaborTransformer((32, 32, 3), batch_size=batch_size, n_jobs=n_jobs, **params)
        got = gt.fit(X).transform(X[order])
        assert_array_equal(got, ref[order], err_msg=f"batch_size={batch_size}, n_jobs={n_jobs}")


# ---------------------------------------------------------------- datasets
@pytest.fixture
def no_network(monkeypatch, tmp_path):
    opener = FakeOpener(error=AssertionError("a test tried to access the network"))
    monkeypatch.setattr(_cifar, "_urlopen", opener)
    monkeypatch.delenv("SKLEARN_GABOR_DATA", raising=False)
    monkeypatch.setenv("SCIKIT_LEARN_DATA", str(tmp_path / "sklearn_default_home"))
    return opener


def test_data_home_is_a_file(tmp_path, no_network):
    """A file where the data folder should be: a clear error, nothing downloaded.

    (Tests run as root, for whom chmod 000 does not make a folder unreadable;
    a *file* in the folder's place fails for every user.)"""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    for download in (False, True):
        with pytest.raises(DatasetNotFoundError, match=f"data_home {blocker} is a file, not a folder"):
            fetch_cifar10(data_home=blocker, download_if_missing=download)
    with pytest.raises(DatasetNotFoundError, match=r"cannot be created to download it into \(NotADirectoryError"):
        fetch_cifar10(data_home=blocker / "sub")
    assert no_network.calls == []
    assert blocker.read_text() == "x"


def test_batches_folder_is_a_file(tmp_path, no_network):
    home = tmp_path / "home"
    home.mkdir()
    (home / FOLDER).write_text("x")
    with pytest.raises(CorruptDatasetError, match=f"{FOLDER} is a file, but CIFAR-10 needs a folder there"):
        fetch_cifar10(data_home=home)
    assert no_network.calls == [] and leftovers(home) == [FOLDER]


def test_unreadable_batch_file(tmp_path, no_network, monkeypatch):
    """An OS read error (simulated: root can read anything) reaches the user
    unchanged, naming the file; nothing is downloaded or written."""
    home = tmp_path / "home"
    write_cifar(home / FOLDER, n_per_batch=2)
    before = sorted(p.name for p in (home / FOLDER).iterdir())

    def denied(path, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(_cifar, "open", denied, raising=False)
    with pytest.raises(PermissionError, match=f"Permission denied: '{home / FOLDER}/data_batch_1'"):
        fetch_cifar10(data_home=home)
    assert no_network.calls == []
    assert sorted(p.name for p in (home / FOLDER).iterdir()) == before


def test_download_failures_leave_no_partial_files(tmp_path, monkeypatch, no_network):
    """Interrupted, corrupt and checksum-failing downloads, then load_cats_vs_dogs."""
    import hashlib

    payload, _ = make_archive(tmp_path)
    monkeypatch.setattr(_cifar, "_CHUNK", 1024)
    home = tmp_path / "home"
    cases = [
        (FakeOpener(payload, fail_after=len(payload) // 3), hashlib.md5(payload).hexdigest(), DatasetNotFoundError, "ConnectionResetError"),
        (FakeOpener(payload[: len(payload) // 2], length=len(payload)), hashlib.md5(payload).hexdigest(), DatasetNotFoundError, "stopped after"),
        (FakeOpener(payload[::-1]), hashlib.md5(payload[::-1]).hexdigest(), CorruptDatasetError, "Could not unpack"),
        (FakeOpener(payload), "0" * 32, CorruptDatasetError, "Checksum mismatch"),
        (FakeOpener(error=TimeoutError("timed out")), "0" * 32, DatasetNotFoundError, "TimeoutError"),
    ]
    for opener, md5, err, match in cases:
        monkeypatch.setattr(_cifar, "_urlopen", opener)
        monkeypatch.setattr(_cifar, "CIFAR10_MD5", md5)
        with pytest.raises(err, match=match) as info:
            load_cats_vs_dogs(data_home=home, n_retries=0)
        if match == "Could not unpack":
            # it passed its checksum: kept for the next call, never silently deleted
            assert "was kept" in str(info.value)
            assert leftovers(home) == ["cifar-10-python.tar.gz"]
            (home / "cifar-10-python.tar.gz").unlink()  # the user removes it
        assert leftovers(home) == [], match
    monkeypatch.setattr(_cifar, "_urlopen", FakeOpener(payload))
    monkeypatch.setattr(_cifar, "CIFAR10_MD5", hashlib.md5(payload).hexdigest())
    assert set(load_cats_vs_dogs(data_home=home).target) <= {0, 1}
    assert leftovers(home) == [FOLDER]


@pytest.mark.parametrize(
    "kwargs, err, match",
    [
        ({"subset": "validation"}, ValueError, "subset must be one of 'train', 'test' or 'all'"),
        ({"classes": ["cat", "wolf"]}, ValueError, "Unknown CIFAR-10 class name 'wolf'"),
        ({"classes": [10]}, ValueError, "class index 10 is out of range"),
        ({"classes": 3.5}, TypeError, "classes must be a list of class names or integers"),
        ({"classes": [np.nan]}, TypeError, r"names \(str\) or indices \(int\)"),
    ],
)
def test_fetch_cifar10_bad_arguments(kwargs, err, match, no_network, tmp_path):
    with pytest.raises(err, match=match):
        fetch_cifar10(data_home=tmp_path / "nowhere", **kwargs)
    assert no_network.calls == [] and not (tmp_path / "nowhere").exists()


@pytest.mark.parametrize(
    "kwargs, err, match",
    [
        ({"n_samples": True}, TypeError, "n_samples must be an integer"),
        ({"n_classes": 2.0}, TypeError, "n_classes must be an integer"),
        ({"image_shape": (8, 8, 3, 1)}, ValueError, "2 or 3 entries"),
        ({"image_shape": (8.0, 8)}, TypeError, "image_shape entries must be an integer"),
        ({"noise": np.nan}, ValueError, "noise must be a finite number >= 0"),
        ({"noise": np.inf}, ValueError, "noise must be a finite number >= 0"),
        ({"frequency_range": (0.3, 0.1)}, ValueError, "0 < low <= high <= 0.5"),
        ({"frequency_range": (0.0, 0.1)}, ValueError, "0 < low <= high <= 0.5"),
        ({"frequency_range": 0.1}, ValueError, "frequency_range must be a pair"),
        ({"random_state": "seed"}, ValueError, "cannot be used to seed"),
    ],
)
def test_make_gratings_bad_arguments(kwargs, err, match):
    with pytest.raises(err, match=match):
        make_gratings(**kwargs)


def test_load_cats_vs_dogs_refuses_classes(no_network, tmp_path):
    with pytest.raises(TypeError, match="unexpected keyword argument 'classes'"):
        load_cats_vs_dogs(classes=["cat"], data_home=tmp_path)


# ---------------------------------------------------------------- command line
def _cli(args, capsys):
    status = main([str(a) for a in args])
    err = capsys.readouterr().err
    return status, err


@pytest.mark.parametrize(
    "args, needle",
    [
        (["demo", "-j", "1.5"], "-j/--n-jobs"),
        (["demo", "--dataset"], "expected one argument"),
        (["demo", "--quick", "--quick", "--dataset", "CIFAR10"], "invalid choice: 'CIFAR10'"),
    ],
)
def test_cli_usage_errors(args, needle, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and needle in err


def test_cli_data_errors_are_one_line(tmp_path, capsys, no_network):
    pytest.importorskip("matplotlib")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    status, err = _cli(["demo", "--dataset", "cifar10", "--data-home", blocker, "--out", tmp_path / "o"], capsys)
    assert status == 2 and len(err.strip().splitlines()) == 1 and "error:" in err

    home = tmp_path / "home"
    write_cifar(home / FOLDER, n_per_batch=2)
    (home / FOLDER / "data_batch_3").write_bytes(b"garbage")
    status, err = _cli(["demo", "--dataset", "cats-vs-dogs", "--data-home", home, "--out", tmp_path / "o"], capsys)
    assert status == 2 and len(err.strip().splitlines()) == 1
    assert "data_batch_3 cannot be read as a batch" in err and "Traceback" not in err
    assert no_network.calls == []


_ARRAY_API_SCRIPT = """
import numpy as np, sklearn
from sklearn_gabor import GaborTransformer, GDSoftmaxClassifier
X = np.random.RandomState(0).rand(20, 64); y = np.arange(20) % 2
try:
    with sklearn.config_context(array_api_dispatch=True):
        pass
except ImportError as e:  # scikit-learn < 1.8 needs array_api_compat installed
    print("UNAVAILABLE", e)
    raise SystemExit(0)
for est in (GaborTransformer(), GDSoftmaxClassifier(max_iter=5)):
    fitted = sklearn.clone(est).fit(X, y)
    apply = fitted.predict if hasattr(fitted, "predict") else fitted.transform
    for call in (lambda: est.fit(X, y), lambda: apply(X)):
        with sklearn.config_context(array_api_dispatch=True):
            try:
                call()
            except ValueError as e:
                print(type(est).__name__, "|", e)
"""


def test_array_api_dispatch_is_refused_clearly():
    """Under array_api_dispatch=True (which needs SCIPY_ARRAY_API=1 before SciPy
    is imported, hence the subprocess) fit and transform/predict of both
    estimators raise a ValueError that names the estimator, not an
    AttributeError from deep inside NumPy."""
    import subprocess
    import sys

    env = dict(os.environ, SCIPY_ARRAY_API="1")
    out = subprocess.run([sys.executable, "-c", _ARRAY_API_SCRIPT], env=env,
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert out.returncode == 0, out.stderr
    if out.stdout.startswith("UNAVAILABLE"):
        pytest.skip(f"array API dispatch cannot be enabled here: {out.stdout[12:].strip()}")
    lines = out.stdout.strip().splitlines()
    assert len(lines) == 4, out.stdout + out.stderr
    for line, name in zip(lines, ["GaborTransformer"] * 2 + ["GDSoftmaxClassifier"] * 2):
        assert line.startswith(f"{name} | {name} does not support array API dispatch")


def test_html_repr_links_to_this_package_docs():
    """The notebook HTML repr's '?' link points at sklearn-gabor's API reference."""
    from sklearn.utils import estimator_html_repr

    from sklearn_gabor import GaborTransformer, GDSoftmaxClassifier

    for est in (GaborTransformer(), GDSoftmaxClassifier()):
        url = est._get_doc_link()
        assert url.startswith("https://sklearn-gabor.readthedocs.io/")
        assert url.endswith(f"generated/sklearn_gabor.{type(est).__name__}.html")
        assert url in estimator_html_repr(est)
