"""The Quickstart's small problem (digits, 128 Gabor features): solvers and BLAS threads.

On the standardized Gabor features of the Quickstart's training digits
(1,347 x 128, 10 classes), side by side in one run, three times each:

* the time of one 'gd' and one 'pgd' epoch, ``(fit(max_iter=51) - fit(max_iter=1)) / 50``,
  as ``GDSoftmaxClassifier`` runs it (it limits itself to one BLAS thread on
  problems this small) and with that limit switched off (the default BLAS threads),
  and the time of the 'pgd' step's solve alone (``cho_solve`` on the 129 x 129
  factor against one product with its inverse);
* the fit time and training accuracy of ``GDSoftmaxClassifier(solver='pgd')``
  with its default ``max_iter`` and of ``LogisticRegression`` with the equivalent ``C``.

Offline. Usage::

    python benchmarks/bench_small_problem.py
"""

import contextlib
import time
import warnings

import numpy as np
import scipy.linalg
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from sklearn_gabor import GaborTransformer, GDSoftmaxClassifier, _optim


def median_time(fn, repeat=3):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def epoch_time(F, y, solver):
    def fit(k):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            GDSoftmaxClassifier(solver=solver, learning_rate=1.0, max_iter=k, tol=0).fit(F, y)

    return (median_time(lambda: fit(51)) - median_time(lambda: fit(1))) / 50


def main():
    X, y = load_digits(return_X_y=True)
    X_train, _, y_train, _ = train_test_split(X / 16, y, random_state=0)
    gabor = GaborTransformer(image_shape=(8, 8), frequencies=(0.15, 0.3), n_orientations=4)
    F = make_pipeline(gabor, StandardScaler()).fit_transform(X_train)
    n, d = F.shape
    print(f"Quickstart digits: {n} training images, {d} Gabor features, {F.dtype}")

    default_rule = _optim.SMALL_PRODUCT
    for label, limit in (("one BLAS thread (as fit runs it)", default_rule),
                         ("default BLAS threads", 0)):
        _optim.SMALL_PRODUCT = limit
        try:
            gd, pgd = epoch_time(F, y_train, "gd"), epoch_time(F, y_train, "pgd")
        finally:
            _optim.SMALL_PRODUCT = default_rule
        print(f"{label:34s} epoch: 'gd' {gd * 1e3:7.2f} ms   'pgd' {pgd * 1e3:7.2f} ms")

    Xt = np.hstack([F, np.ones((n, 1), F.dtype)]).astype(np.float64)
    M = 0.5 * Xt.T @ Xt / n + 1e-4 * np.eye(d + 1)
    factor = scipy.linalg.cho_factor(M)
    inverse = np.linalg.inv(M)
    G = np.random.RandomState(0).randn(10, d + 1)
    for label, ctx in (("one BLAS thread", lambda: threadpool_limits(1, user_api="blas")),
                       ("default BLAS threads", contextlib.nullcontext)):
        with ctx():
            solve = median_time(lambda: [scipy.linalg.cho_solve(factor, G.T) for _ in range(100)]) / 100
            product = median_time(lambda: [G @ inverse for _ in range(100)]) / 100
        print(f"{label:34s} 'pgd' solve: cho_solve {solve * 1e3:6.3f} ms   "
              f"product with M^-1 {product * 1e3:6.3f} ms")

    alpha = GDSoftmaxClassifier().alpha  # the default L2 weight
    models = {
        "GDSoftmaxClassifier(solver='pgd')": GDSoftmaxClassifier(
            solver="pgd", learning_rate=1.0, alpha=alpha),
        "LogisticRegression(lbfgs)": LogisticRegression(C=1 / (alpha * n), max_iter=1000),
    }
    models["LogisticRegression(lbfgs), one BLAS thread"] = LogisticRegression(
        C=1 / (alpha * n), max_iter=1000)
    for name, model in models.items():
        def fit(model=model, name=name):
            one = threadpool_limits(1, user_api="blas") if "one BLAS" in name else None
            with one or contextlib.nullcontext(), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model.fit(F, y_train)

        t = median_time(fit)
        epochs = int(np.max(model.n_iter_))
        print(f"{name:44s} median fit {t:6.3f} s ({epochs} iterations), "
              f"training accuracy {model.score(F, y_train):.4f}")


if __name__ == "__main__":
    main()
