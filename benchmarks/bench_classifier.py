"""Benchmark GDSoftmaxClassifier against scikit-learn's softmax/logistic solvers.

In one run, on the same standardized float32 data (CIFAR-10 raw pixels when
``SKLEARN_GABOR_DATA`` points at the batches, else a synthetic stand-in of the
same shape), for 2 and 10 classes, it prints:

* the time of one full-batch 'gd' epoch next to the time of the two matrix
  products it needs (``X @ W.T`` and ``G.T @ X``), and their ratio;
* for each solver, the time to reach within ``1e-3`` of the optimal loss
  ``L* = min L(W, b)`` (found by LogisticRegression at a tight tolerance with
  the equivalent ``C``), and the held-out accuracy.

Solvers: GDSoftmaxClassifier 'gd', 'pgd' (preconditioned, learning_rate=1),
'apgd' (the same, accelerated),
'sgd', 'adam'; LogisticRegression(lbfgs);
MLPClassifier(hidden_layer_sizes=()) (a softmax trained by Adam); and
SGDClassifier(loss='log_loss'), which is one-vs-rest, so its loss is a
different objective: only its accuracy is comparable.

It also prints, for the default ``GDSoftmaxClassifier`` next to the default
``LogisticRegression`` with the equivalent ``C``: fit time, iterations and
test accuracy, on the Quickstart's Gabor features of the digits, on the
pixels and (``--recipe N``) on the features of ``make_cifar10_pipeline``; and
(``--large-d N D``) 'pgd' with more features than samples.

Usage::

    python benchmarks/bench_classifier.py [--n-samples 10000] [--budget 60]
    python benchmarks/bench_classifier.py --defaults-only --classes 2
    python benchmarks/bench_classifier.py --skip-pixels --large-d 5000 25000
    python benchmarks/bench_classifier.py --defaults-only --recipe 10000
    python benchmarks/bench_classifier.py --recipe 40000 --recipe-only
"""

import argparse
import os
import time
import warnings

import numpy as np
from scipy.special import expit, log_softmax
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

from sklearn_gabor import GDSoftmaxClassifier

warnings.filterwarnings("ignore", category=ConvergenceWarning)


def load_data(n_samples, n_classes, seed=0):
    """CIFAR-10 raw pixels (train on part of batches 1-4, evaluate on batch 5)."""
    home = os.environ.get("SKLEARN_GABOR_DATA")
    if home:
        from sklearn_gabor.datasets import fetch_cifar10

        data = fetch_cifar10(data_home=home)
        X, y = data.data, data.target
        is_train = data.batch != "data_batch_5"  # train on batches 1-4, hold out 5
        source = "CIFAR-10 pixels"
        if n_classes == 2:  # cat (3) -> 0, dog (5) -> 1
            keep = np.isin(y, [3, 5])
            X, y, is_train = X[keep], (y[keep] == 5).astype(int), is_train[keep]
            source += " (cats vs dogs)"
        Xtr, ytr = X[is_train][:n_samples], y[is_train][:n_samples]
        Xte, yte = X[~is_train], y[~is_train]
    else:
        from sklearn.datasets import make_classification

        X, y = make_classification(
            n_samples + 2000, 3072, n_informative=200, n_classes=n_classes,
            random_state=seed,
        )
        source = "synthetic (set SKLEARN_GABOR_DATA for CIFAR-10)"
        Xtr, ytr, Xte, yte = X[:n_samples], y[:n_samples], X[n_samples:], y[n_samples:]
    scaler = StandardScaler().fit(Xtr.astype(np.float32))
    Xtr = scaler.transform(Xtr.astype(np.float32)).astype(np.float32)
    Xte = scaler.transform(Xte.astype(np.float32)).astype(np.float32)
    return Xtr, ytr, Xte, yte, source


def objective(coef, intercept, X, y, alpha):
    """Our loss L(W, b) from a fitted (coef_, intercept_) in any convention.

    For two classes ``coef`` is the single row ``w = w_1 - w_0`` and the
    softmax parameters are ``W = [-w/2, w/2]``, so ``||W||^2 = ||w||^2 / 2``.
    """
    coef = np.asarray(coef, dtype=np.float64)
    z = X @ coef.T + intercept
    if coef.shape[0] == 1:
        z = z.ravel()
        p1 = expit(z)
        ll = np.where(y == 1, np.log(np.maximum(p1, 1e-300)), np.log(np.maximum(1 - p1, 1e-300)))
        return -ll.mean() + alpha / 4 * np.sum(coef**2)
    lp = log_softmax(z, axis=1)
    return -lp[np.arange(len(y)), y].mean() + alpha / 2 * np.sum(coef**2)


def median_time(fn, repeat=5):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def epoch_vs_products(X, y, n_classes):
    """Median time of one 'gd' epoch inside fit, and of X @ W.T plus G.T @ X.

    The epoch time is ``(fit(max_iter=11) - fit(max_iter=1)) / 10``, so input
    validation and set-up, paid once per fit, are left out.
    """
    W = np.zeros((n_classes, X.shape[1]), dtype=X.dtype)
    G = np.random.RandomState(0).rand(X.shape[0], n_classes).astype(X.dtype)
    products = median_time(lambda: (X @ W.T, G.T @ X))

    def fit(k):
        GDSoftmaxClassifier(solver="gd", max_iter=k, tol=0, learning_rate=1e-3).fit(X, y)

    epoch = (median_time(lambda: fit(11), 3) - median_time(lambda: fit(1), 3)) / 10
    return epoch, products


def by_max_iter(make, evaluate, target, budget, start=2):
    """Time of the first fit, doubling max_iter, whose result reaches ``target``.

    Each fit starts from scratch, so the time is that of one plain ``fit``.
    Gives up (time None) once a fit takes longer than ``budget`` or stops
    before ``max_iter`` (its own stopping rule) without reaching the target.
    """
    k = start
    while True:
        t0 = time.perf_counter()
        est = make(k).fit(*make.data)
        t = time.perf_counter() - t0
        if evaluate(est) <= target:
            return t, k, est
        n_iter = int(np.max(getattr(est, "n_iter_", k)))
        if t > budget or n_iter < k:  # over budget, or stopped on its own short of it
            return None, k, est
        k *= 2


class _Rows(dict):
    """The result table, each row printed as soon as it is measured."""

    def __init__(self, budget):
        super().__init__()
        self.budget = budget

    def add(self, key, name, t, k, acc, gap=None):
        self[key] = t
        if key == "sgdc":
            print(f"{name:48s} {'n/a':>16s} {'fit ' + format(k, '.1f') + 's':>12s} {acc:9.4f}", flush=True)
        else:
            ts = f"{t:.2f} s" if t is not None else f"> {self.budget:.0f} s"
            miss = f"   (stopped at L* + {gap:.2g})" if t is None and gap is not None else ""
            print(f"{name:48s} {ts:>16s} {k:>12d} {acc:9.4f}{miss}", flush=True)


def defaults_vs_lr(label, Xtr, ytr, Xte, yte, alpha, extra=None, other_solvers=True):
    """Default GDSoftmaxClassifier against default LogisticRegression, equivalent C, one run.

    Next to them (with ``other_solvers``): 'gd' and 'pgd' with their other
    parameters at the defaults; then ``extra`` (name -> estimator), if given.
    """
    n_classes = len(np.unique(ytr))
    C = (2.0 if n_classes == 2 else 1.0) / (alpha * len(ytr))
    models = {
        f"GDSoftmaxClassifier(alpha={alpha:.3g}) defaults ('apgd')": GDSoftmaxClassifier(alpha=alpha),
        f"LogisticRegression(C={C:.3g}) defaults": LogisticRegression(C=C),
    }
    if other_solvers:
        models["GDSoftmaxClassifier(solver='gd')"] = GDSoftmaxClassifier(alpha=alpha, solver="gd")
        models["GDSoftmaxClassifier(solver='pgd')"] = GDSoftmaxClassifier(alpha=alpha, solver="pgd")
    models.update(extra or {})
    print(f"\n--- defaults on {label}: train {Xtr.shape[0]} x {Xtr.shape[1]} {Xtr.dtype}")
    times = {}
    for name, model in models.items():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            t0 = time.perf_counter()
            model.fit(Xtr, ytr)
            times[name] = time.perf_counter() - t0
        warned = " (ConvergenceWarning)" if caught else ""
        print(f"{name:58s} fit {times[name]:7.2f} s, {int(np.max(model.n_iter_)):4d} iterations, "
              f"test acc {model.score(Xte, yte):.4f}{warned}", flush=True)
    names = list(models)
    for name in names[:1] + names[2:]:
        print(f"{name} / default LogisticRegression time = {times[name] / times[names[1]]:.2f}x")


def recipe_features(n_samples, task, encoder):
    """``make_cifar10_pipeline``'s standardized features: part of batches 1-4, and batch 5."""
    from sklearn_gabor import make_cifar10_pipeline
    from sklearn_gabor.datasets import fetch_cifar10

    data = fetch_cifar10(data_home=os.environ["SKLEARN_GABOR_DATA"])
    X, y = data.data, data.target
    is_train = data.batch != "data_batch_5"
    if task == "cats-vs-dogs":
        keep = np.isin(y, [3, 5])
        X, y, is_train = X[keep], (y[keep] == 5).astype(int), is_train[keep]
    pipe = make_cifar10_pipeline(task, encoder=encoder)
    features = pipe[:-1]
    t0 = time.perf_counter()
    Ftr = features.fit_transform(X[is_train][:n_samples])
    Fte = features.transform(X[~is_train])
    print(f"\nrecipe features ({task}, encoder={encoder}): {time.perf_counter() - t0:.1f} s for "
          f"{Ftr.shape[0] + Fte.shape[0]} images", flush=True)
    return Ftr, y[is_train][:n_samples], Fte, y[~is_train], pipe[-1]


def quickstart_features():
    """The Quickstart's standardized Gabor features of the digits (train, test)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline

    from sklearn_gabor import GaborTransformer

    X, y = load_digits(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X / 16, y, random_state=0)
    gabor = GaborTransformer(image_shape=(8, 8), frequencies=(0.15, 0.3), n_orientations=4)
    pre = make_pipeline(gabor, StandardScaler()).fit(Xtr)
    return pre.transform(Xtr), ytr, pre.transform(Xte), yte


SOLVERS = ("gd", "pgd", "apgd", "sgd", "adam", "lr", "mlp", "sgdc")


def run(n_classes, n_samples, alpha, budget, solvers=SOLVERS):
    Xtr, ytr, Xte, yte, source = load_data(n_samples, n_classes)
    n, d = Xtr.shape
    print(f"\n=== {n_classes} classes: {source}, train {n} x {d} float32, test {len(yte)}, alpha={alpha}")
    defaults_vs_lr(source, Xtr, ytr, Xte, yte, alpha)
    epoch, products = epoch_vs_products(Xtr, ytr, n_classes)
    print(
        f"one 'gd' epoch: {epoch * 1e3:.1f} ms   X@W.T + G.T@X: {products * 1e3:.1f} ms   "
        f"ratio {epoch / products:.2f}"
    )
    C = (2.0 if n_classes == 2 else 1.0) / (alpha * n)
    Xd = Xtr.astype(np.float64)
    ref = LogisticRegression(C=C, tol=1e-10, max_iter=5000).fit(Xd, ytr)
    L_star = objective(ref.coef_, ref.intercept_, Xd, ytr, alpha)
    target = L_star + 1e-3
    print(f"optimal loss L* = {L_star:.6f} (LogisticRegression, tol=1e-10); target L* + 1e-3")
    print(f"{'solver':48s} {'time to L*+1e-3':>16s} {'epochs/iters':>12s} {'test acc':>9s}", flush=True)
    rows = _Rows(budget)

    def loss_of(e):
        return objective(e.coef_, e.intercept_, Xtr, ytr, alpha)

    def ours(solver, lr, **kw):
        def make(k):
            return GDSoftmaxClassifier(
                solver=solver, learning_rate=lr, alpha=alpha, random_state=0, tol=0,
                max_iter=k, **kw,
            )

        make.data = (Xtr, ytr)
        t, k, est = by_max_iter(make, loss_of, target, budget, start=2 if solver in ("pgd", "apgd") else 8)
        rows.add(solver, f"GDSoftmaxClassifier({solver}, lr={lr})", t, k, est.score(Xte, yte),
                 loss_of(est) - L_star)

    if "gd" in solvers:
        ours("gd", 0.01, learning_rate_schedule="adaptive")
    if "pgd" in solvers:
        ours("pgd", 1.0, learning_rate_schedule="adaptive")
    if "apgd" in solvers:
        ours("apgd", 1.0, learning_rate_schedule="adaptive")
    if "sgd" in solvers:
        ours("sgd", 0.01, batch_size=256)
    if "adam" in solvers:
        ours("adam", 1e-3, batch_size=256)

    if "lr" in solvers:
        def lr_make(k):
            return LogisticRegression(C=C, tol=1e-12, max_iter=k)

        lr_make.data = (Xtr, ytr)
        t, k, est = by_max_iter(lr_make, loss_of, target, budget)
        rows.add("lr", "LogisticRegression(lbfgs)", t, k, est.score(Xte, yte), loss_of(est) - L_star)

    if "mlp" in solvers:
        alpha_mlp = alpha * n / (2 if n_classes == 2 else 1)  # MLP divides alpha by n

        def mlp_make(k):
            return MLPClassifier(
                hidden_layer_sizes=(), alpha=alpha_mlp, batch_size=256, learning_rate_init=1e-3,
                max_iter=k, tol=0, n_iter_no_change=k + 1, random_state=0,
            )

        def mlp_loss(e):
            return objective(e.coefs_[0].T, e.intercepts_[0], Xtr, ytr, alpha)

        mlp_make.data = (Xtr, ytr)
        t, k, est = by_max_iter(mlp_make, mlp_loss, target, budget, start=8)
        rows.add("mlp", "MLPClassifier(hidden_layer_sizes=(), adam)", t, k, est.score(Xte, yte),
                 mlp_loss(est) - L_star)

    if "sgdc" in solvers:
        t0 = time.perf_counter()
        sgdc = SGDClassifier(loss="log_loss", alpha=alpha / 2, random_state=0, n_jobs=1).fit(Xtr, ytr)
        t_sgd = time.perf_counter() - t0
        rows.add("sgdc", "SGDClassifier(log_loss, OvR: other objective)", None, t_sgd,
                 sgdc.score(Xte, yte))

    ours_times = [(rows[s], s) for s in ("gd", "pgd", "apgd", "sgd", "adam") if rows.get(s) is not None]
    if ours_times:
        best, name = min(ours_times)
        name = f"GDSoftmaxClassifier({name})"

        def ratio(key):  # a solver that missed the budget is at least budget / best slower
            if key not in rows:
                return "not run"
            t = rows[key]
            return f"{t / best:.2f}x" if t is not None else f"> {budget / best:.2f}x"

        print(
            f"fastest: {name} {best:.2f} s; LogisticRegression / fastest = {ratio('lr')}"
            f"; MLPClassifier / fastest = {ratio('mlp')}"
        )


def large_d(n_samples, n_features, alpha, max_iter, n_classes=10, seed=0):
    """'pgd' and 'apgd' with more features than samples against LogisticRegression.

    Synthetic standardized float32 features sharing 200 latent factors. Prints
    the optimum L* (LogisticRegression, tol=1e-10, on float64), the time and
    relative gap of LogisticRegression's default, and one 'pgd' and one 'apgd'
    fit of ``max_iter`` epochs: its time, the first epoch whose loss is within 1e-4
    of L* (relative) and the gap at the end.
    """
    from sklearn_gabor._optim import _BoundPreconditioner

    rng = np.random.RandomState(seed)
    y = rng.randint(n_classes, size=n_samples)
    Z = rng.randn(n_classes, 200)[y] + 2 * rng.randn(n_samples, 200)
    X = (Z @ rng.randn(200, n_features) / 10 + rng.randn(n_samples, n_features)).astype(np.float32)
    X = StandardScaler().fit_transform(X).astype(np.float32)
    print(f"\n=== large d: synthetic {n_samples} x {n_features} float32, {n_classes} classes, "
          f"alpha={alpha}")
    Xd = X.astype(np.float64)
    C = 1.0 / (alpha * n_samples)
    t0 = time.perf_counter()
    ref = LogisticRegression(C=C, tol=1e-10, max_iter=10_000).fit(Xd, y)
    t_ref = time.perf_counter() - t0
    L_star = objective(ref.coef_, ref.intercept_, Xd, y, alpha)
    print(f"optimal loss L* = {L_star:.6g} (LogisticRegression, tol=1e-10: {t_ref:.1f} s, "
          f"{int(np.max(ref.n_iter_))} iterations)")
    del Xd

    def gap(coef, intercept):
        return (objective(coef, intercept, X, y, alpha) - L_star) / L_star

    t0 = time.perf_counter()
    lr = LogisticRegression(C=C).fit(X, y)
    print(f"LogisticRegression() default: {time.perf_counter() - t0:.1f} s, "
          f"{int(np.max(lr.n_iter_))} iterations, relative gap {gap(lr.coef_, lr.intercept_):.2e}")
    t0 = time.perf_counter()
    form = _BoundPreconditioner(X, np.full(n_samples, 1.0 / n_samples), alpha, True).form
    t_setup = time.perf_counter() - t0
    for solver in ("pgd", "apgd"):
        t0 = time.perf_counter()
        clf = GDSoftmaxClassifier(solver=solver, learning_rate=1.0, alpha=alpha, tol=0,
                                  max_iter=max_iter).fit(X, y)
        t_fit = time.perf_counter() - t0
        curve = (np.asarray(clf.loss_curve_) - L_star) / L_star
        hit = np.flatnonzero(curve <= 1e-4)
        reached = f"epoch {hit[0] + 1}" if hit.size else "not reached"
        print(f"GDSoftmaxClassifier({solver}, {form} form): setup {t_setup:.1f} s, fit "
              f"{t_fit:.1f} s for {clf.n_iter_} epochs; within 1e-4 of L*: {reached}; final "
              f"relative gap {gap(clf.coef_, clf.intercept_):.2e}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=10_000)
    parser.add_argument("--alpha", type=float, default=1e-2)
    parser.add_argument("--budget", type=float, default=60.0, help="seconds per solver")
    parser.add_argument("--classes", type=int, nargs="+", default=[2, 10])
    parser.add_argument("--solvers", nargs="+", choices=SOLVERS, default=list(SOLVERS),
                        help="run only these (lr: LogisticRegression, mlp: MLPClassifier, "
                             "sgdc: SGDClassifier)")
    parser.add_argument("--large-d", type=int, nargs=2, default=[5000, 25_000],
                        metavar=("N", "D"), help="the large-d 'pgd' case (0 0 to skip)")
    parser.add_argument("--large-d-alpha", type=float, default=0.1)
    parser.add_argument("--large-d-epochs", type=int, default=200)
    parser.add_argument("--skip-pixels", action="store_true", help="only the large-d case")
    parser.add_argument("--defaults-only", action="store_true",
                        help="only the default-vs-default comparisons")
    parser.add_argument("--recipe", type=int, default=0, metavar="N",
                        help="also compare the defaults on make_cifar10_pipeline's features of "
                             "N training images (needs SKLEARN_GABOR_DATA)")
    parser.add_argument("--recipe-task", choices=["cifar10", "cats-vs-dogs"], default="cifar10")
    parser.add_argument("--recipe-no-encoder", action="store_true",
                        help="the Gabor features only (5,376 features)")
    parser.add_argument("--recipe-only", action="store_true",
                        help="with --recipe: only the default, LogisticRegression's default and "
                             "the recipe's classifier on the recipe's features, then stop")
    args = parser.parse_args()
    if args.recipe:
        Ftr, ftr, Fte, fte, clf = recipe_features(args.recipe, args.recipe_task,
                                                  not args.recipe_no_encoder)
        defaults_vs_lr("the recipe's features of CIFAR-10", Ftr, ftr, Fte, fte, clf.alpha,
                       extra={"the recipe's GDSoftmaxClassifier": clf},
                       other_solvers=not args.recipe_only)
        del Ftr, Fte
        if args.recipe_only:
            return
    Ftr, ftr, Fte, fte = quickstart_features()
    defaults_vs_lr("the Quickstart's Gabor features of the digits", Ftr, ftr, Fte, fte,
                   GDSoftmaxClassifier().alpha)
    if args.defaults_only:
        for n_classes in args.classes:
            Xtr, ytr, Xte, yte, source = load_data(args.n_samples, n_classes)
            defaults_vs_lr(source, Xtr, ytr, Xte, yte, args.alpha)
        return
    if not args.skip_pixels:
        for n_classes in args.classes:
            run(n_classes, args.n_samples, args.alpha, args.budget, args.solvers)
    if args.large_d[0] > 0:
        large_d(*args.large_d, args.large_d_alpha, args.large_d_epochs)


if __name__ == "__main__":
    main()
