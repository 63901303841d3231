"""Raw-pixel baselines on CIFAR-10, on the splits the documentation names.

A linear softmax on standardized raw pixels (``StandardScaler`` +
``GDSoftmaxClassifier(solver='pgd')`` trained to its optimum, the same model
family and training as the documented Gabor recipe) for every ``alpha`` of a
small grid, on each split below; everything is read through
:mod:`sklearn_gabor.datasets` from ``$SKLEARN_GABOR_DATA`` (nothing is
downloaded). No figure here uses ``test_batch``.

Splits (training images from ``data_batch_1``-``4``, evaluation images from
``data_batch_5``, each in file order):

* ``cats-vs-dogs``: all 7,959 / all 2,041 cat and dog images;
* ``cats-vs-dogs-2000``: the first 2,000 / all 2,041 (the split of the
  accuracy floor test, ``tests/test_accuracy.py``);
* ``cats-vs-dogs-quick``: the first 1,000 / the first 500 (the split of
  ``sklearn-gabor demo --quick --dataset cats-vs-dogs``);
* ``cifar10``: all 40,000 / all 10,000 images of the ten classes.

Each line printed is::

    BASELINE split=... n_train=... n_eval=... alpha=... accuracy=0.xxxx fit_s=...

Usage::

    SKLEARN_GABOR_DATA=/path/to/data python benchmarks/bench_baselines.py [--splits ...]
"""

import argparse
import os
import sys
import time
import warnings

import numpy as np

SPLITS = {
    "cats-vs-dogs": (("cat", "dog"), None, None),
    "cats-vs-dogs-2000": (("cat", "dog"), 2000, None),
    "cats-vs-dogs-quick": (("cat", "dog"), 1000, 500),
    "cifar10": (None, None, None),
}
ALPHAS = (0.01, 0.1, 1.0, 10.0)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--splits", nargs="+", choices=list(SPLITS), default=list(SPLITS))
    parser.add_argument("--alphas", type=float, nargs="+", default=list(ALPHAS))
    args = parser.parse_args(argv)

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.preprocessing import StandardScaler

    from sklearn_gabor import GDSoftmaxClassifier
    from sklearn_gabor.datasets import CorruptDatasetError, DatasetNotFoundError, fetch_cifar10

    home = os.environ.get("SKLEARN_GABOR_DATA")
    for split in args.splits:
        classes, n_train, n_eval = SPLITS[split]
        try:
            data = fetch_cifar10(data_home=home, classes=classes, download_if_missing=False)
        except (DatasetNotFoundError, CorruptDatasetError) as exc:
            print(f"bench_baselines: CIFAR-10 data not available: {exc}", file=sys.stderr)
            return 2
        val = data.batch == "data_batch_5"
        Xtr, ytr = data.data[~val][:n_train], data.target[~val][:n_train]
        Xva, yva = data.data[val][:n_eval], data.target[val][:n_eval]
        scaler = StandardScaler().fit(Xtr.astype(np.float32))
        Ptr = scaler.transform(Xtr.astype(np.float32))
        Pva = scaler.transform(Xva.astype(np.float32))
        for alpha in args.alphas:
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)  # max_iter caps the epochs
                clf = GDSoftmaxClassifier(solver="pgd", learning_rate=1.0, max_iter=100,
                                          tol=1e-4, alpha=alpha).fit(Ptr, ytr)  # fmt: skip
            acc = float(np.mean(clf.predict(Pva) == yva))
            print(f"BASELINE split={split} n_train={len(ytr)} n_eval={len(yva)} alpha={alpha:g} "
                  f"accuracy={acc:.4f} fit_s={time.perf_counter() - t0:.1f}", flush=True)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
