"""Validation (or test) accuracy of the documented Gabor + softmax recipe on CIFAR-10.

The recipe (see ``docs/accuracy.rst``) is a :class:`~sklearn_gabor.GaborTransformer`
with fixed filters, a :class:`~sklearn.preprocessing.StandardScaler` and a linear
:class:`~sklearn_gabor.GDSoftmaxClassifier`. Data are read through
:mod:`sklearn_gabor.datasets` from the folder named by the environment variable
``SKLEARN_GABOR_DATA`` (nothing is downloaded):

* ``--eval val``: train on ``data_batch_1``-``4``, evaluate on ``data_batch_5``;
* ``--eval test``: train on all five training batches, evaluate on ``test_batch``
  (report-only: never tune on it).

The features are averaged with those of the left-right mirror image
(``flip_invariant=True``; ``--no-flip`` turns that off), which gives a linear
model what training on flipped copies would, without transforming them.

The last line printed is::

    RESULT task=... eval=... accuracy=0.xxxx n_features=... transform_s=... fit_s=... total_s=...

and the script exits with status 2 when the data are missing.

Usage::

    SKLEARN_GABOR_DATA=/path/to/data python benchmarks/bench_accuracy.py \
        --task cats-vs-dogs|cifar10 --eval val|test [--n-train N] [--compare-lr] \
        [--recipe gabor|encoder] [--kernel-map]

``--recipe encoder`` runs :func:`sklearn_gabor.make_cifar10_pipeline`: the same
Gabor features with a :class:`~sklearn_gabor.GaborPatchEncoder` beside them
(square root of its features) and that pipeline's classifier. ``--kernel-map``
adds that pipeline's Nystroem map of the Gaussian kernel
(``make_cifar10_pipeline(kernel_map=True)``) between the standardized features
and the classifier; its time counts in ``transform_s``.
"""

import argparse
import os
import sys
import time
import warnings

import numpy as np

# The documented recipe (docs/accuracy.rst explains every choice): one definition,
# shared with sklearn_gabor.make_cifar10_pipeline.
from sklearn_gabor._recipes import (
    RECIPE_ALPHA,
    RECIPE_GABOR,
    RECIPE_SOFTMAX,
    recipe_banks,
)


def recipe_transformer(n_jobs=-1, flip_invariant=True):
    """The documented feature extractor: fixed Gabor filters, two orders.

    A :class:`~sklearn_gabor.GaborTransformer` (in a FeatureUnion, which the
    patch encoder joins in :func:`~sklearn_gabor.make_cifar10_pipeline`) on
    the opponent channels (luminance, red-green, yellow-blue) of the
    contrast-normalized image, with 8 orientations, 4 x 4 mean pooling and a
    square root, averaging each feature with its left-right mirror
    (``flip_invariant=True``):

    * first order, ``|I * g|``, 4 frequencies (768 features);
    * second order, ``| |I * g1| * g2 |`` with ``f2 < f1``, of the upper 3
      frequencies (``cascade_frequencies``, 4,608 features).

    ``n_jobs`` threads transform batches of images in parallel (-1: all cores).
    """
    from sklearn.pipeline import FeatureUnion

    return FeatureUnion(recipe_banks(n_jobs=n_jobs, flip_invariant=flip_invariant))


def recipe_classifier(n_classes):
    """The documented linear classifier: preconditioned gradient descent to the optimum.

    ``alpha`` was chosen on the validation batch: stronger for the small binary
    problem (7,959 training images) than for the 10 classes (40,000).
    """
    from sklearn_gabor import GDSoftmaxClassifier

    alpha = RECIPE_ALPHA[2 if n_classes == 2 else 10]
    return GDSoftmaxClassifier(alpha=alpha, **RECIPE_SOFTMAX)




def load(task, eval_split):
    """Train/evaluation split of CIFAR-10 (or its cats-vs-dogs subset)."""
    from sklearn_gabor.datasets import fetch_cifar10

    classes = ("cat", "dog") if task == "cats-vs-dogs" else None
    subset = "train" if eval_split == "val" else "all"
    home = os.environ.get("SKLEARN_GABOR_DATA")
    data = fetch_cifar10(
        data_home=home, subset=subset, classes=classes, download_if_missing=False
    )
    held_out = "data_batch_5" if eval_split == "val" else "test_batch"
    test = data.batch == held_out
    return data.data[~test], data.target[~test], data.data[test], data.target[test]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", choices=("cats-vs-dogs", "cifar10"), default="cats-vs-dogs")
    parser.add_argument("--eval", choices=("val", "test"), default="val", dest="eval_split")
    parser.add_argument("--n-train", type=int, default=None,
                        help="use only the first N training images (default: all)")
    parser.add_argument("--n-jobs", type=int, default=-1,
                        help="threads for the Gabor transform (default -1: all cores)")
    parser.add_argument("--no-flip", action="store_true",
                        help="features without the left-right mirror average (flip_invariant=False)")
    parser.add_argument("--recipe", choices=("gabor", "encoder"), default="gabor",
                        help="'encoder': the Gabor banks plus GaborPatchEncoder "
                             "(sklearn_gabor.make_cifar10_pipeline)")
    parser.add_argument("--kernel-map", action="store_true",
                        help="Nystroem map of the Gaussian kernel before the classifier "
                             "(make_cifar10_pipeline(kernel_map=True))")
    parser.add_argument("--compare-lr", action="store_true",
                        help="also fit LogisticRegression with the equivalent C")
    args = parser.parse_args(argv)

    from sklearn.preprocessing import StandardScaler

    from sklearn_gabor.datasets import CorruptDatasetError, DatasetNotFoundError

    try:
        Xtr, ytr, Xte, yte = load(args.task, args.eval_split)
    except (DatasetNotFoundError, CorruptDatasetError) as exc:
        print(f"bench_accuracy: CIFAR-10 data not available: {exc}", file=sys.stderr)
        return 2
    if args.n_train is not None:
        Xtr, ytr = Xtr[: args.n_train], ytr[: args.n_train]
    n_classes = len(np.unique(ytr))
    print(f"{args.task} ({n_classes} classes), eval={args.eval_split}: "
          f"train {len(ytr)}, evaluate {len(yte)} images"
          f"{'' if args.no_flip else ' (features averaged with their left-right mirror)'}",
          flush=True)

    t0 = time.perf_counter()
    if args.recipe == "encoder":
        from sklearn_gabor import make_cifar10_pipeline

        pipe = make_cifar10_pipeline(args.task, encoder=True, n_jobs=args.n_jobs)
        gabor = pipe.named_steps["features"]
        for name, _ in RECIPE_GABOR:
            gabor.set_params(**{f"{name}__flip_invariant": not args.no_flip})
    else:
        gabor = recipe_transformer(n_jobs=args.n_jobs, flip_invariant=not args.no_flip)
    Ftr = gabor.fit_transform(Xtr)
    Fte = gabor.transform(Xte)
    scaler = StandardScaler().fit(Ftr)
    Ftr = scaler.transform(Ftr).astype(np.float32, copy=False)
    Fte = scaler.transform(Fte).astype(np.float32, copy=False)
    t_transform = time.perf_counter() - t0
    print(f"features: {Ftr.shape[1]} per image in {t_transform:.1f} s", flush=True)
    if args.kernel_map:
        from sklearn.pipeline import Pipeline

        from sklearn_gabor import make_cifar10_pipeline

        t1 = time.perf_counter()
        steps = make_cifar10_pipeline(args.task, encoder=args.recipe == "encoder",
                                      kernel_map=True).named_steps
        kmap = Pipeline([(name, steps[name]) for name in ("kernel_map", "kernel_scale")])
        with warnings.catch_warnings():
            # fewer training images than components: Nystroem uses them all
            warnings.filterwarnings("ignore", message="n_components > n_samples")
            Ftr = kmap.fit_transform(Ftr)
        Fte = kmap.transform(Fte)
        t_transform = time.perf_counter() - t0
        print(f"kernel map: {Ftr.shape[1]} components in {time.perf_counter() - t1:.1f} s "
              f"(gamma {steps['kernel_map'].gamma:.3g})", flush=True)

    from sklearn.exceptions import ConvergenceWarning

    t0 = time.perf_counter()
    with warnings.catch_warnings():
        # max_iter caps the epochs; the accuracy settles before the gradient does
        warnings.simplefilter("ignore", ConvergenceWarning)
        if args.kernel_map:
            clf = steps["classify"]
        elif args.recipe == "encoder":
            clf = pipe.named_steps["classify"]
        else:
            clf = recipe_classifier(n_classes)
        clf.fit(Ftr, ytr)
    t_fit = time.perf_counter() - t0
    acc = float(np.mean(clf.predict(Fte) == yte))
    print(f"GDSoftmaxClassifier: accuracy {acc:.4f}, fit {t_fit:.1f} s "
          f"({clf.n_iter_} epochs, max |gradient| {clf.grad_norm_curve_[-1]:.2g})", flush=True)

    if args.compare_lr:
        from sklearn.linear_model import LogisticRegression

        alpha = clf.alpha
        # our loss: mean cross-entropy + alpha / 2 ||W||^2; the binary
        # LogisticRegression has one weight vector w = w_1 - w_0 (||W||^2 = ||w||^2 / 2)
        C = (2.0 if n_classes == 2 else 1.0) / (alpha * len(ytr))
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            lr = LogisticRegression(C=C, max_iter=1000, tol=1e-5).fit(Ftr, ytr)
        acc_lr = float(np.mean(lr.predict(Fte) == yte))
        print(f"LogisticRegression(C={C:.3g}): accuracy {acc_lr:.4f}, fit "
              f"{time.perf_counter() - t0:.1f} s; difference {100 * (acc - acc_lr):+.2f} points",
              flush=True)

    print(f"RESULT task={args.task} eval={args.eval_split} accuracy={acc:.4f} "
          f"n_features={Ftr.shape[1]} transform_s={t_transform:.1f} fit_s={t_fit:.1f} "
          f"total_s={t_transform + t_fit:.1f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
