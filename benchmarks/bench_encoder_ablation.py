"""Validation accuracy of GaborPatchEncoder variants, alone and beside the Gabor recipe.

Train on the first ``--n-train`` images of ``data_batch_1``-``4``, evaluate on
(the first ``--n-val`` images of) ``data_batch_5`` (validation only). Features
are cached as ``.npy`` files in ``--cache`` (outside the repository) so that
several heads and combinations can be compared on the same features. Data come from ``SKLEARN_GABOR_DATA``.

Usage::

    SKLEARN_GABOR_DATA=/path python benchmarks/bench_encoder_ablation.py --cache DIR \
        --features enc_default recipe --eval "enc_default:sqrt" "recipe+enc_default:sqrt" \
        [--heads lr gd default nystroem] [--n-train 10000] [--n-val N] [--n-jobs 2]
        [--fit-rows N] [--classes 3 5] [--alpha A ...] [--kernel-scale C ...] [--n-components M]

A feature set is a name from ``VARIANTS`` (encoder parameters), ``recipe``
(the cascade recipe of ``bench_accuracy.py``) or ``kymatio`` (kymatio's
second-order ``Scattering2D(J=2, L=8)`` of each RGB channel, when kymatio is
installed); an evaluated combination joins
sets with ``+``, each optionally suffixed ``:sqrt`` (square root of that set).
Each result line reads ``ABLATION features=... head=... n_features=... accuracy=...``.

``--heads nystroem`` maps the standardized features through
:class:`~sklearn.kernel_approximation.Nystroem` (Gaussian kernel,
``--n-components`` training rows, ``gamma = C / m`` for each ``--kernel-scale C``,
where ``m`` is the median squared distance between 1,000 random standardized
training rows), standardizes the map and fits the default
:class:`~sklearn_gabor.GDSoftmaxClassifier` on it. ``--fit-rows N`` fits the
heads on the first ``N`` rows of the cached training features only, and
``--classes`` keeps the rows of those classes (``3 5``: cats vs dogs).
"""

import argparse
import os
import sys
import time
import warnings

import numpy as np

VARIANTS = {
    "enc_default": {},
    "enc_t0.5": {"threshold": 0.5},
    "enc_t0.1": {"threshold": 0.1},
    "enc_w1": {"whitening_eps": 1.0},
    "enc_pool3": {"pool_grid": (3, 3)},
    "enc_small": {"frequencies": (0.3,), "n_orientations": 4, "sigmas": (1.5,)},
    "enc_p8": {"patch_size": 8, "frequencies": (0.1, 0.2, 0.3, 0.45), "sigmas": (1.5, 3.0)},
    # as in make_cifar10_pipeline: square root inside (before any mirror averaging)
    "enc_sqrt": {"compression": "sqrt"},
    "enc_flip_sqrt": {"compression": "sqrt", "flip_invariant": True},
    "enc_pool3_flip_sqrt": {"compression": "sqrt", "flip_invariant": True, "pool_grid": (3, 3)},
    # all 25 opponent_color_directions(12), of which 6 negate others
    "enc_25c_sqrt": {"compression": "sqrt", "colors": "all25"},
    "enc_25c_flip_sqrt": {"compression": "sqrt", "colors": "all25", "flip_invariant": True},
    "enc_o12_flip_sqrt": {"compression": "sqrt", "flip_invariant": True, "n_orientations": 12},
}


class _Kymatio:
    """kymatio's Scattering2D(J=2, L=8, max_order=2), NumPy frontend, per RGB channel
    of the [0, 1] image: 3 x 81 coefficients x 8 x 8 positions = 15,552 features."""

    def fit_transform(self, X):
        return self.transform(X)

    def transform(self, X):
        sys.path.insert(0, os.path.dirname(__file__))
        try:
            from bench_transform import kymatio_features, kymatio_scattering
        finally:
            sys.path.pop(0)
        scattering = kymatio_scattering()
        if scattering is None:
            raise SystemExit("bench_encoder_ablation: the 'kymatio' features need kymatio")
        return kymatio_features(scattering, np.asarray(X)).reshape(len(X), -1)


def _transformer(name, n_jobs):
    if name == "kymatio":
        return _Kymatio()
    if name == "recipe":
        sys.path.insert(0, os.path.dirname(__file__))
        from bench_accuracy import recipe_transformer

        return recipe_transformer(n_jobs=n_jobs)
    from sklearn_gabor import GaborPatchEncoder
    from sklearn_gabor._kernels import opponent_color_directions

    params = dict(VARIANTS[name])
    if params.get("colors") == "all25":
        params["colors"] = opponent_color_directions(12)[0]
    return GaborPatchEncoder(image_shape=(32, 32, 3), n_jobs=n_jobs, random_state=0, **params)


def features(name, cache, Xtr, Xva, n_jobs):
    """Cached (train, validation) features of one set."""
    paths = [os.path.join(cache, f"{name}_n{len(Xtr)}_{len(Xva)}_{part}.npy")
             for part in ("tr", "va")]
    if all(os.path.exists(p) for p in paths):
        return [np.load(p, mmap_mode="r") for p in paths]
    t0 = time.perf_counter()
    tf = _transformer(name, n_jobs)
    Ftr = tf.fit_transform(Xtr)
    Fva = tf.transform(Xva)
    dt = time.perf_counter() - t0
    print(f"FEATURES {name}: {Ftr.shape[1]} in {dt:.0f} s "
          f"({(len(Xtr) + len(Xva)) / dt:.1f} images/s)", flush=True)
    os.makedirs(cache, exist_ok=True)
    for p, F in zip(paths, (Ftr, Fva)):
        np.save(p, F.astype(np.float32, copy=False))
    return Ftr, Fva


def combine(spec, cache, Xtr, Xva, n_jobs):
    parts_tr, parts_va = [], []
    for part in spec.split("+"):
        name, _, comp = part.partition(":")
        Ftr, Fva = features(name, cache, Xtr, Xva, n_jobs)
        if comp == "sqrt":
            Ftr, Fva = np.sqrt(np.maximum(Ftr, 0)), np.sqrt(np.maximum(Fva, 0))
        parts_tr.append(np.asarray(Ftr, dtype=np.float32))
        parts_va.append(np.asarray(Fva, dtype=np.float32))
    return np.hstack(parts_tr), np.hstack(parts_va)


def median_sq_distance(F, n=1000, seed=0):
    """Median squared distance between ``n`` random rows of ``F``."""
    from sklearn.metrics.pairwise import euclidean_distances

    S = F[np.random.default_rng(seed).choice(len(F), min(n, len(F)), replace=False)]
    D2 = euclidean_distances(S, squared=True)
    return float(np.median(D2[np.triu_indices(len(S), 1)]))


def kernel_map(Ftr, Fva, scale, n_components, median):
    """Standardized Nystroem coordinates of a Gaussian kernel, gamma = scale / median."""
    from sklearn.kernel_approximation import Nystroem
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    kmap = make_pipeline(Nystroem(gamma=scale / median, n_components=n_components,
                                  random_state=0), StandardScaler())
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="n_components > n_samples")
        Ztr = kmap.fit_transform(Ftr)
    return Ztr, kmap.transform(Fva)


def evaluate(head, Ftr, ytr, Fva, yva, alpha):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    from sklearn_gabor import GDSoftmaxClassifier

    if head == "lr":
        clf = LogisticRegression(C=1.0 / (alpha * len(ytr)), max_iter=500, tol=1e-4)
    elif head == "default":  # GDSoftmaxClassifier's defaults ('apgd')
        clf = GDSoftmaxClassifier(alpha=alpha)
    else:
        solver = "pgd" if Ftr.shape[1] <= 10_000 else "adam"
        extra = ({"learning_rate": 1.0, "max_iter": 100, "tol": 1e-4} if solver == "pgd"
                 else {"learning_rate": 1e-3, "max_iter": 60, "batch_size": 256, "tol": 1e-5})
        clf = GDSoftmaxClassifier(alpha=alpha, solver=solver, random_state=0, **extra)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(Ftr, ytr)
    name = head if head in ("lr", "default") else f"gd-{clf.solver}"
    return name, float(np.mean(clf.predict(Fva) == yva)), time.perf_counter() - t0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", required=True)
    parser.add_argument("--features", nargs="*", default=[])
    parser.add_argument("--eval", nargs="*", default=[], dest="combos")
    parser.add_argument("--heads", nargs="*", default=["lr"],
                        choices=("lr", "gd", "default", "nystroem"),
                        help="lr: LogisticRegression (500 iterations); gd: GDSoftmaxClassifier "
                             "'pgd' up to 10,000 features, Adam above; default: "
                             "GDSoftmaxClassifier's defaults ('apgd'); nystroem: the defaults "
                             "on a Nystroem map of the Gaussian kernel")
    parser.add_argument("--alpha", type=float, nargs="+", default=[0.01])
    parser.add_argument("--kernel-scale", type=float, nargs="+", default=[0.5],
                        help="nystroem head: gamma = C / (median squared distance)")
    parser.add_argument("--n-components", type=int, default=8000)
    parser.add_argument("--fit-rows", type=int, default=None,
                        help="fit the heads on the first N cached training rows only")
    parser.add_argument("--classes", type=int, nargs="*", default=None,
                        help="keep only these classes (3 5: cats vs dogs)")
    parser.add_argument("--n-train", type=int, default=10_000)
    parser.add_argument("--n-val", type=int, default=None,
                        help="evaluate on the first N images of data_batch_5 (default: all)")
    parser.add_argument("--n-jobs", type=int, default=-1)
    args = parser.parse_args(argv)

    from sklearn.preprocessing import StandardScaler

    from sklearn_gabor.datasets import fetch_cifar10

    data = fetch_cifar10(data_home=os.environ.get("SKLEARN_GABOR_DATA"), subset="train",
                         download_if_missing=False)
    X = data.data.reshape(len(data.target), -1)
    va = data.batch == "data_batch_5"
    Xtr, ytr = X[~va][: args.n_train], data.target[~va][: args.n_train]
    Xva, yva = X[va][: args.n_val], data.target[va][: args.n_val]
    for name in args.features:
        features(name, args.cache, Xtr, Xva, args.n_jobs)
    for spec in args.combos:
        Ftr, Fva = combine(spec, args.cache, Xtr, Xva, args.n_jobs)
        yt, yv = ytr, yva
        if args.fit_rows is not None:
            Ftr, yt = Ftr[: args.fit_rows], yt[: args.fit_rows]
        if args.classes:
            keep_tr, keep_va = np.isin(yt, args.classes), np.isin(yv, args.classes)
            Ftr, yt, Fva, yv = Ftr[keep_tr], yt[keep_tr], Fva[keep_va], yv[keep_va]
        scaler = StandardScaler().fit(Ftr)
        Ftr, Fva = scaler.transform(Ftr), scaler.transform(Fva)
        for head in args.heads:
            if head == "nystroem":
                median = median_sq_distance(Ftr)
                print(f"median squared distance {median:.0f} ({Ftr.shape[1]} features)",
                      flush=True)
                for scale in args.kernel_scale:
                    t0 = time.perf_counter()
                    Ztr, Zva = kernel_map(Ftr, Fva, scale, args.n_components, median)
                    t_map = time.perf_counter() - t0
                    for alpha in args.alpha:
                        _, acc, dt = evaluate("default", Ztr, yt, Zva, yv, alpha)
                        print(f"ABLATION features={spec} head=nystroem(m={Ztr.shape[1]},"
                              f"scale={scale}) alpha={alpha} n_train={len(yt)} "
                              f"n_features={Ftr.shape[1]} accuracy={acc:.4f} map_s={t_map:.0f} "
                              f"fit_s={dt:.0f}", flush=True)
                continue
            for alpha in args.alpha:
                name, acc, dt = evaluate(head, Ftr, yt, Fva, yv, alpha)
                print(f"ABLATION features={spec} head={name} alpha={alpha} n_train={len(yt)} "
                      f"n_features={Ftr.shape[1]} accuracy={acc:.4f} fit_s={dt:.0f}",
                      flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
