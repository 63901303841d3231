"""solver='pgd' in its three forms, and the BLAS threads of small fits.

The ``n_samples x n_samples`` (Woodbury) form of the Böhning preconditioner
must give the same steps as the ``(d + 1) x (d + 1)`` form, the low-rank
(Nystrom) form the same at full rank and the covariance's leading eigenpairs
below it, and fits of more than 10,000 features must reach the optimum of
``LogisticRegression``.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_info

from sklearn_gabor import GDSoftmaxClassifier, _optim
from sklearn_gabor._optim import (
    PGD_MAX_FEATURES,
    _BoundPreconditioner,
    blas_threads_for,
)


def _wide_data(n_classes, n_samples, n_features, seed=0):
    """More features than samples, sharing a few latent factors (correlated, as pixels)."""
    rng = np.random.RandomState(seed)
    y = rng.randint(n_classes, size=n_samples)
    latent = rng.randn(n_classes, 5)[y] + rng.randn(n_samples, 5)
    X = latent @ rng.randn(5, n_features) + rng.randn(n_samples, n_features)
    return StandardScaler().fit_transform(X), y


def _primal(monkeypatch):
    monkeypatch.setattr(_optim, "_use_dual", lambda n, d, alpha: False)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_dual_and_primal_forms_give_the_same_direction(fit_intercept, monkeypatch):
    """M^{-1} g by Woodbury equals the Cholesky solve of the explicit (d + 1)^2 bound."""
    X, _ = _wide_data(3, 30, 80)
    X += 2.0  # uncentred columns: the intercept's elimination matters
    rng = np.random.RandomState(1)
    sw = rng.uniform(0.2, 2.0, size=30)
    sw /= sw.sum()
    dual = _BoundPreconditioner(X, sw, 0.05, fit_intercept)
    assert dual.form == "dual"
    _primal(monkeypatch)
    primal = _BoundPreconditioner(X, sw, 0.05, fit_intercept)
    assert primal.form == "primal"
    G, g = rng.randn(4, 80), rng.randn(4)
    u_dual, b_dual = dual.solve(G, g)
    u_primal, b_primal = primal.solve(G, g)
    assert_allclose(u_dual, u_primal, rtol=1e-9, atol=1e-12 * np.abs(u_primal).max())
    assert_allclose(b_dual, b_primal, rtol=1e-9, atol=1e-12 * np.abs(b_primal).max())
    # and the direction solves M [u, b] = [G, g] for the explicit bound
    Xt = np.hstack([X, np.ones((30, 1))]) if fit_intercept else X
    M = 0.5 * Xt.T @ (sw[:, None] * Xt)
    M[np.arange(80), np.arange(80)] += 0.05
    step = np.hstack([u_dual, b_dual[:, None]]) if fit_intercept else u_dual
    rhs = np.hstack([G, g[:, None]]) if fit_intercept else G
    assert_allclose(step @ M, rhs, atol=1e-8)


@pytest.mark.parametrize("offset, fast", [(0.0, True), (50.0, False)])
def test_dual_form_float32_products(offset, fast, monkeypatch):
    """On dense float32 X the dual form's per-epoch products run in float32, unless the
    mean dominates the spread (X H and xbar^T H would cancel): the direction stays that
    of the float64 primal solve to float32 precision."""
    X, _ = _wide_data(3, 60, 150)
    X = (X + offset).astype(np.float32)
    sw = np.full(60, 1.0 / 60)
    dual = _BoundPreconditioner(X, sw, 0.01, True)
    assert dual.form == "dual" and dual.fast_products is fast
    _primal(monkeypatch)
    primal = _BoundPreconditioner(X.astype(np.float64), sw, 0.01, True)
    rng = np.random.RandomState(2)
    G, g = rng.randn(3, 150), rng.randn(3)
    u, b = dual.solve(G.astype(np.float32), g.astype(np.float32))
    u_ref, b_ref = primal.solve(G, g)
    assert_allclose(u, u_ref, rtol=1e-4, atol=1e-4 * np.abs(u_ref).max())
    assert_allclose(b, b_ref, rtol=1e-4, atol=1e-4 * np.abs(b_ref).max())


def test_dual_form_fits_like_the_primal_form(monkeypatch):
    """Same data, same epochs: the two forms give the same iterates (float64)."""
    X, y = _wide_data(3, 40, 120)
    params = {"solver": "pgd", "learning_rate": 1.0, "alpha": 0.05, "max_iter": 25, "tol": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        dual = GDSoftmaxClassifier(**params).fit(X, y)
        _primal(monkeypatch)
        primal = GDSoftmaxClassifier(**params).fit(X, y)
    assert_allclose(dual.coef_, primal.coef_, rtol=1e-7, atol=1e-10)
    assert_allclose(dual.intercept_, primal.intercept_, rtol=1e-7, atol=1e-10)
    assert_allclose(dual.loss_curve_, primal.loss_curve_, rtol=1e-10)


@pytest.mark.parametrize("n_classes", [3])
def test_pgd_beyond_10000_features_reaches_logistic_regression(n_classes):
    """10,050 features, 60 samples: 'pgd' (n x n form) reaches LogisticRegression's optimum."""
    X, y = _wide_data(n_classes, 40, PGD_MAX_FEATURES + 50)
    alpha = 10.0
    C = (2.0 if n_classes == 2 else 1.0) / (alpha * len(y))
    ref = LogisticRegression(C=C, tol=1e-10, max_iter=10_000).fit(X, y)
    clf = GDSoftmaxClassifier(solver="pgd", learning_rate=1.0, alpha=alpha, tol=1e-7, max_iter=1000)
    clf.fit(X, y)
    assert clf.n_iter_ < 1000  # converged: largest gradient entry below 1e-7
    assert np.ptp(ref.predict_proba(X)) > 0.1  # not the trivial uniform model
    assert_allclose(clf.predict_proba(X), ref.predict_proba(X), atol=1e-4)
    assert_allclose(clf.coef_, ref.coef_, rtol=1e-3, atol=1e-4 * np.abs(ref.coef_).max())


def _lowrank(monkeypatch, rank):
    monkeypatch.setattr(_optim, "_pgd_form", lambda n, d, alpha: "lowrank")
    monkeypatch.setattr(_optim, "PGD_RANK", rank)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_lowrank_form_at_full_rank_is_the_exact_direction(fit_intercept, dtype, monkeypatch):
    """With rank = d the Nystrom form is exact: the same direction as the primal solve."""
    X, _ = _wide_data(3, 200, 60)
    X = (X + 2.0).astype(dtype)
    rng = np.random.RandomState(1)
    sw = rng.uniform(0.2, 2.0, size=200)
    sw /= sw.sum()
    primal = _BoundPreconditioner(X.astype(np.float64), sw, 0.05, fit_intercept)
    assert primal.form == "primal"
    _lowrank(monkeypatch, 60)
    low = _BoundPreconditioner(X, sw, 0.05, fit_intercept)
    assert low.form == "lowrank"
    G, g = rng.randn(4, 60), rng.randn(4)
    u_low, b_low = low.solve(G.astype(dtype), g.astype(dtype))
    assert u_low.dtype == dtype
    u, b = primal.solve(G, g)
    rtol = 1e-9 if dtype == np.float64 else 1e-3
    assert_allclose(u_low, u, rtol=rtol, atol=rtol * np.abs(u).max())
    if fit_intercept:
        assert_allclose(b_low, b, rtol=rtol, atol=rtol * np.abs(b).max())


def test_lowrank_form_finds_the_leading_eigenpairs(monkeypatch):
    """Rank k < d: the k eigenvalues kept match those of the weighted covariance."""
    rng = np.random.RandomState(0)
    n, d, k = 500, 120, 16
    # a few strong directions above a weak tail, as filter-bank features have
    scales = np.r_[np.linspace(10.0, 3.0, 8), np.full(d - 8, 0.3)]
    X = (rng.randn(n, d) * scales) @ np.linalg.qr(rng.randn(d, d))[0] + 3.0
    sw = np.full(n, 1.0 / n)
    _lowrank(monkeypatch, k)
    low = _BoundPreconditioner(X, sw, 0.1, True)
    Xc = X - sw @ X
    exact = np.linalg.eigvalsh(Xc.T @ (sw[:, None] * Xc))[::-1]
    assert_allclose(low.eigenvalues[:8], exact[:8], rtol=1e-2)
    assert np.all(low.eigenvalues[:k] <= exact[:k] * (1 + 1e-9))  # Nystrom never overshoots
    assert_allclose(low.U.T @ low.U, np.eye(k), atol=1e-10)


def test_pgd_lowrank_form_reaches_logistic_regression(monkeypatch):
    """Rank 32 of 400 features: 'pgd' still reaches LogisticRegression's optimum."""
    X, y = _wide_data(3, 600, 400)
    alpha = 1.0
    ref = LogisticRegression(C=1 / (alpha * len(y)), tol=1e-10, max_iter=10_000).fit(X, y)
    monkeypatch.setattr(_optim, "PGD_MAX_FEATURES", 100)
    monkeypatch.setattr(_optim, "PGD_RANK", 32)
    clf = GDSoftmaxClassifier(solver="pgd", learning_rate=1.0, alpha=alpha, tol=1e-6, max_iter=500)
    clf.fit(X, y)
    assert clf.n_iter_ < 500
    assert np.ptp(ref.predict_proba(X)) > 0.1
    assert_allclose(clf.predict_proba(X), ref.predict_proba(X), atol=1e-4)
    # every step lowers the loss, as with the exact bound
    assert np.all(np.diff(clf.loss_curve_) <= 1e-12)


@pytest.mark.parametrize("n, form", [(4 * _optim.PGD_RANK, "dual"), (4 * _optim.PGD_RANK + 1, "lowrank")])
def test_many_features_form_depends_on_the_samples(n, form):
    """Beyond 10,000 features: the n x n Gram matrix (n^2 d) up to 4 k samples, where it
    costs less than the low-rank form's passes (4 n d k), the low-rank form beyond."""
    d = PGD_MAX_FEATURES + 1
    rng = np.random.RandomState(0)
    X = sp.csr_matrix((rng.rand(n), (np.arange(n), rng.randint(d, size=n))), shape=(n, d))
    assert _BoundPreconditioner(X, np.full(n, 1.0 / n), 1e-3, True).form == form


def test_pgd_uses_the_lowrank_form_when_both_sides_are_large():
    """n_samples and n_features both above 10,000: no (d + 1)^2 or n^2 factor is built."""
    n = d = PGD_MAX_FEATURES + 1
    rng = np.random.RandomState(0)
    y = np.arange(n) % 2
    X = sp.csr_matrix((1.0 + y, (np.arange(n), rng.randint(d, size=n))), shape=(n, d))
    sw = np.full(n, 1.0 / n)
    precond = _BoundPreconditioner(X, sw, 1e-3, True)
    assert precond.form == "lowrank" and precond.U.shape == (d, _optim.PGD_RANK)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = GDSoftmaxClassifier(solver="pgd", learning_rate=1.0, max_iter=3).fit(X, y)
    assert np.all(np.isfinite(clf.coef_)) and clf.loss_curve_[-1] < clf.loss_curve_[0]


def test_pgd_many_features_needs_a_penalty():
    X = sp.random(4, PGD_MAX_FEATURES + 1, density=0.01, format="csr", random_state=0)
    with pytest.raises(ValueError, match=r"solver='pgd' or 'apgd' with n_features=10001 > 10000.*needs alpha > 0"):
        GDSoftmaxClassifier(solver="pgd", alpha=0.0).fit(X, [0, 1, 0, 1])


def _blas_threads():
    return [info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"]


def test_small_problems_run_on_one_blas_thread():
    with blas_threads_for(1347, 128, 10):
        assert set(_blas_threads()) == {1}
    before = _blas_threads()
    with blas_threads_for(40_000, 5952, 10):
        assert _blas_threads() == before
    assert _blas_threads() == before


def test_max_iter_warning_says_where_it_stopped_and_what_to_change():
    """On standardized X the warning does not advise standardizing; otherwise it does."""
    from sklearn.datasets import make_classification

    X, y = make_classification(200, 10, random_state=0)
    X = StandardScaler().fit_transform(X)
    clf = GDSoftmaxClassifier(max_iter=3, tol=1e-8)
    with pytest.warns(ConvergenceWarning, match=r"largest gradient entry is \S+, above tol=1e-08") as rec:
        clf.fit(X, y)
    message = str(rec[0].message)
    assert f"{clf.grad_norm_curve_[-1]:.3g}" in message
    assert "Increase max_iter, or raise tol" in message and "Standardize" not in message
    with pytest.warns(ConvergenceWarning, match="Standardize X"):
        GDSoftmaxClassifier(max_iter=3, tol=1e-8, learning_rate=1e-6).fit(X * 50 + 20, y)
    with pytest.warns(ConvergenceWarning, match="n_iter_no_change=10 epochs. Increase max_iter or tol"):
        GDSoftmaxClassifier(solver="adam", max_iter=3).fit(X, y)
