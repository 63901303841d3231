"""Validation accuracy of GaborPatchEncoder variants, alone and beside the Gabor recipe.

Train on the first ``--n-train`` images of ``data_batch_1``-``4``, evaluate on
(the first ``--n-val`` images of) ``data_batch_5`` (validation only). Features
are cached as ``.npy`` files in ``--cache`` (outside the repository) so that
several heads and combinations can be compared on the same features. Data come from ``SKLEARN_GABOR_DATA``.

Usage::

    SKLEARN_GABOR_DATA=/path python benchmarks/bench_encoder_ablation.py --cache DIR \
        --features enc_default recipe --eval "enc_default:sqrt" "recipe+enc_default:sqrt" \
        [--heads lr gd default] [--n-train 10000] [--n-val N] [--n-jobs 2]

A feature set is a name from ``VARIANTS`` (encoder parameters) or ``recipe``
(the cascade recipe of ``bench_accuracy.py``); an evaluated combination joins
sets with ``+``, each optionally suffixed ``:sqrt`` (square root of that set).
Each result line reads ``ABLATION features=... head=... n_features=... accuracy=...``.
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
    # all 25 opponent_color_directions(12), of which 6 negate others
    "enc_25c_sqrt": {"compression": "sqrt", "colors": "all25"},
    "enc_25c_flip_sqrt": {"compression": "sqrt", "colors": "all25", "flip_invariant": True},
    "enc_o12_flip_sqrt": {"compression": "sqrt", "flip_invariant": True, "n_orientations": 12},
}


def _transformer(name, n_jobs):
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
    parser.add_argument("--heads", nargs="*", default=["lr"], choices=("lr", "gd", "default"),
                        help="lr: LogisticRegression (500 iterations); gd: GDSoftmaxClassifier "
                             "'pgd' up to 10,000 features, Adam above; default: "
                             "GDSoftmaxClassifier's defaults ('apgd')")
    parser.add_argument("--alpha", type=float, default=0.01)
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
        scaler = StandardScaler().fit(Ftr)
        Ftr, Fva = scaler.transform(Ftr), scaler.transform(Fva)
        for head in args.heads:
            name, acc, dt = evaluate(head, Ftr, ytr, Fva, yva, args.alpha)
            print(f"ABLATION features={spec} head={name} n_train={len(ytr)} "
                  f"n_features={Ftr.shape[1]} accuracy={acc:.4f} fit_s={dt:.0f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
