"""Ablation of the documented recipe: validation accuracy of each choice, one run.

Every row is a set of :class:`~sklearn_gabor.GaborTransformer` banks (side by
side, as a :class:`~sklearn.pipeline.FeatureUnion` would put them), standardized
and classified by ``GDSoftmaxClassifier(solver='pgd')`` trained to near its
optimum, for each ``alpha`` of a small grid. The split is the validation
protocol: train on ``data_batch_1``-``4``, evaluate on ``data_batch_5``
(``--n-train`` / ``--n-val`` take the first images of each, in file order).

Rows 1-8 are cumulative, each adding one change to the row above; the rows
marked ``x`` change one thing with respect to row 6 (the recipe's first-order
bank; ``x1`` with respect to row 5) and were not kept. Features of each bank are computed once per run and
shared by the rows that use them (``--cache DIR`` keeps them between runs).

Usage::

    SKLEARN_GABOR_DATA=/path/to/data python benchmarks/bench_ablation.py \
        --task cats-vs-dogs [--n-train N] [--n-val N] [--rows 1,2,8] [--cache DIR]

The script prints one line per row, then a table, and exits with status 2 when
the data are missing.
"""

import argparse
import hashlib
import json
import os
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_accuracy import RECIPE_GABOR, RECIPE_SOFTMAX, load

# Row 1: the transformer's plain bank on the RGB channels.
_PLAIN = {"frequencies": (0.05, 0.1, 0.2, 0.4), "n_orientations": 8, "nonlinearity": "modulus",
          "mode": "reflect", "pool_grid": (4, 4), "pool_stats": ("mean",),
          "compression": "log1p", "contrast_normalization": False, "color": "per_channel"}
_ROW2 = dict(_PLAIN, mode="wrap")
_ROW3 = dict(_ROW2, compression="sqrt")
_ROW4 = dict(_ROW3, contrast_normalization=True)
_ROW5 = dict(_ROW4, color="opponent")
_ROW6 = dict(_ROW5, flip_invariant=True)
_LUMINANCE_CASCADE = dict(_ROW6, color="gray", frequencies=(0.1, 0.2, 0.4), order=2)
# Row 8: the recipe of bench_accuracy.py (mirror-averaged there by recipe_transformer).
_RECIPE = [dict(p, flip_invariant=True) for _, p in RECIPE_GABOR]

# (label, kept, banks)
ROWS = [
    ("1", ("plain bank: 4 frequencies x 8 orientations, modulus, RGB, 4x4 means, "
           "log1p, mode='reflect'"), [_PLAIN]),
    ("2", "mode='wrap'", [_ROW2]),
    ("3", "compression='sqrt' instead of 'log1p'", [_ROW3]),
    ("4", "contrast_normalization=True", [_ROW4]),
    ("5", "color='opponent'", [_ROW5]),
    ("6", "flip_invariant=True (mirror-averaged)", [_ROW6]),
    ("7", "beside a luminance cascade (color='gray', order=2, 0.1/0.2/0.4)",
     [_ROW6, _LUMINANCE_CASCADE]),
    ("8", "the recipe: beside the opponent-colour cascade instead", _RECIPE),
    ("x1", "row 5, nonlinearity='rectified' (mirror averaging needs the modulus)",
     [dict(_ROW5, nonlinearity="rectified")]),
    ("x2", "row 6, 6 frequencies (0.05, 0.1, 0.15, 0.2, 0.3, 0.4)",
     [dict(_ROW6, frequencies=(0.05, 0.1, 0.15, 0.2, 0.3, 0.4))]),
    ("x3", "row 6, 16 orientations", [dict(_ROW6, n_orientations=16)]),
    ("x4", "row 6, pool_grid=(8, 8)", [dict(_ROW6, pool_grid=(8, 8))]),
    ("x5", "row 6, pool_stats=('mean', 'max')", [dict(_ROW6, pool_stats=("mean", "max"))]),
    ("x6", "row 8 beside the luminance cascade of row 7",
     _RECIPE + [_LUMINANCE_CASCADE]),
]
ALPHAS = (0.1, 0.3, 1.0)


def _key(params, tag):
    text = json.dumps(params, sort_keys=True, default=list) + tag
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def bank_features(params, Xtr, Xte, cache, tag, n_jobs):
    """Features of one bank for both splits, computed once (and cached when asked)."""
    from sklearn_gabor import GaborTransformer

    key = _key(params, tag)
    if key in cache:
        return cache[key] + (0.0,)
    path = os.path.join(cache["_dir"], key + ".npz") if cache.get("_dir") else None
    if path and os.path.exists(path):
        with np.load(path) as f:
            cache[key] = (f["train"], f["test"])
        return cache[key] + (0.0,)
    t0 = time.perf_counter()
    g = GaborTransformer(image_shape=(32, 32, 3), n_jobs=n_jobs, **params)
    out = (g.fit_transform(Xtr), g.transform(Xte))
    seconds = time.perf_counter() - t0
    cache[key] = out
    if path:
        np.savez(path, train=out[0], test=out[1])
    return out + (seconds,)


def evaluate(Ftr, ytr, Fte, yte, alphas=ALPHAS):
    """Validation accuracy for each alpha of the grid (standardized features, 'pgd')."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.preprocessing import StandardScaler

    from sklearn_gabor import GDSoftmaxClassifier

    scaler = StandardScaler().fit(Ftr)
    Ftr = scaler.transform(Ftr).astype(np.float32, copy=False)
    Fte = scaler.transform(Fte).astype(np.float32, copy=False)
    scores = {}
    for alpha in alphas:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf = GDSoftmaxClassifier(alpha=alpha, **RECIPE_SOFTMAX).fit(Ftr, ytr)
        scores[alpha] = float(np.mean(clf.predict(Fte) == yte))
    return scores


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", choices=("cats-vs-dogs", "cifar10"), default="cats-vs-dogs")
    parser.add_argument("--n-train", type=int, default=None)
    parser.add_argument("--n-val", type=int, default=None)
    parser.add_argument("--rows", default=None, help="comma-separated row labels (default: all)")
    parser.add_argument("--cache", default=None, help="folder to keep bank features between runs")
    parser.add_argument("--n-jobs", type=int, default=-1)
    parser.add_argument("--alphas", default=",".join(map(str, ALPHAS)),
                        help="comma-separated L2 weights to try (default: %(default)s)")
    args = parser.parse_args(argv)
    alphas = tuple(float(a) for a in args.alphas.split(","))

    from sklearn_gabor.datasets import CorruptDatasetError, DatasetNotFoundError

    try:
        Xtr, ytr, Xte, yte = load(args.task, "val")
    except (DatasetNotFoundError, CorruptDatasetError) as exc:
        print(f"bench_ablation: CIFAR-10 data not available: {exc}", file=sys.stderr)
        return 2
    Xtr, ytr = Xtr[: args.n_train], ytr[: args.n_train]
    Xte, yte = Xte[: args.n_val], yte[: args.n_val]
    tag = f"{args.task}-{len(ytr)}-{len(yte)}"
    print(f"{args.task}: train {len(ytr)} images of data_batch_1-4, validate on {len(yte)} "
          f"of data_batch_5; GDSoftmaxClassifier({RECIPE_SOFTMAX}), alpha in {alphas}",
          flush=True)
    wanted = None if args.rows is None else set(args.rows.split(","))
    cache = {"_dir": args.cache}
    if args.cache:
        os.makedirs(args.cache, exist_ok=True)
    table = []
    for label, text, banks in ROWS:
        if wanted is not None and label not in wanted:
            continue
        parts = [bank_features(p, Xtr, Xte, cache, tag, args.n_jobs) for p in banks]
        Ftr = np.hstack([p[0] for p in parts])
        Fte = np.hstack([p[1] for p in parts])
        scores = evaluate(Ftr, ytr, Fte, yte, alphas)
        best = max(scores, key=scores.get)
        table.append((label, text, Ftr.shape[1], scores, best))
        print(f"row {label}: {Ftr.shape[1]} features, new features {sum(p[2] for p in parts):.0f} s, "
              + ", ".join(f"alpha={a:g}: {s:.4f}" for a, s in scores.items()), flush=True)
    print("\n| row | change | features | " + " | ".join(f"alpha={a:g}" for a in alphas) + " |")
    for label, text, n, scores, best in table:
        cells = [f"**{s:.3f}**" if a == best else f"{s:.3f}" for a, s in scores.items()]
        print(f"| {label} | {text} | {n} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
