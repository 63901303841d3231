"""The ``sklearn-gabor`` command line: ``sklearn-gabor demo``.

The demo trains ``Pipeline(GaborTransformer, StandardScaler,
GDSoftmaxClassifier)`` with a grid search over learning rates, prints the
accuracies and a per-class report, saves the model with joblib and writes
PNG figures (filter bank, class templates, loss curves, confusion matrix).
"""

import argparse
import contextlib
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from ._version import __version__

PROG = "sklearn-gabor"
DATASETS = ("digits", "cats-vs-dogs", "cifar10")
_CIFAR_FOLDERS = ("cifar-10-batches-py", "cifar10/cifar-10-batches-py")
FIGURES = ("filter_bank.png", "templates.png", "loss_curves.png", "confusion_matrix.png")

# Per dataset: the Gabor bank, the learning rates searched and the sizes used.
# ``quick`` entries override the full ones with --quick.
_CONFIG = {
    "digits": {
        "image_shape": (8, 8),
        "gabor": {"frequencies": (0.15, 0.3), "n_orientations": 4, "pool_grid": (4, 4)},
        "learning_rates": [0.01, 0.1, 0.3, 1.0, 3.0, 10.0],
        "cv": 5,
        "max_iter": 300,
        "template_alpha": 1e-4,
        "quick": {"learning_rates": [0.1, 1.0], "cv": 2, "max_iter": 100},
    },
    "cifar": {
        "image_shape": (32, 32, 3),
        "gabor": {
            "frequencies": (0.05, 0.1, 0.2, 0.4),
            "n_orientations": 8,
            "pool_grid": (4, 4),
            "compression": "log1p",
        },
        "learning_rates": [0.1, 1.0, 10.0],
        "max_iter": 200,
        "n_train": None,  # all of data_batch_1 .. data_batch_4
        "n_val": None,  # all of data_batch_5
        "n_templates": 10000,
        "template_alpha": 1.0,  # smoother colour templates, same accuracy
        "quick": {
            "gabor": {
                "frequencies": (0.1, 0.2, 0.4),
                "n_orientations": 4,
                "pool_grid": (4, 4),
                "compression": "log1p",
            },
            "learning_rates": [0.1, 1.0],
            "max_iter": 100,
            "n_train": 1000,
            "n_val": 500,
            "n_templates": 1000,
        },
    },
}


class CLIError(Exception):
    """An error reported as one line on stderr with exit status 2."""


def _umask():
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _write_file(path, write):
    """Write ``path`` through a new temporary file renamed onto it.

    ``write(f)`` fills the binary file object ``f``. The temporary file is
    created afresh (never opened through an existing name) and then renamed
    onto ``path``: whatever was at ``path``, including a symbolic link, is
    replaced and never written through, and a failure leaves it unchanged.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.chmod(tmp, 0o666 & ~_umask())  # the permissions of a plain new file
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


def _epochs(estimator, X, y):
    """A "score" that records the epochs the pipeline's classifier ran."""
    return float(estimator[-1].n_iter_)


class _Progress:
    """Prints ``[elapsed] message`` lines, flushed at once."""

    def __init__(self, stream=None):
        self.start = time.perf_counter()
        self.stream = stream

    def elapsed(self):
        return time.perf_counter() - self.start

    def __call__(self, message):
        print(f"[{self.elapsed():6.1f}s] {message}", file=self.stream or sys.stdout, flush=True)


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose usage errors are one line on stderr (exit 2)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _n_jobs(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None
    if value == 0:
        raise argparse.ArgumentTypeError("must be a positive integer or -1 (all cores), got 0")
    return value


def build_parser():
    """The argument parser of the ``sklearn-gabor`` command.

    Returns
    -------
    parser : argparse.ArgumentParser
    """
    parser = _Parser(
        prog=PROG,
        description="Gabor filter-bank features + gradient-descent softmax for scikit-learn.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = sub.add_parser(
        "demo",
        help="train, evaluate and visualize an image classifier",
        description=(
            "Train Pipeline(GaborTransformer, StandardScaler, GDSoftmaxClassifier) "
            "with a grid search over learning rates; print the accuracies and a "
            "per-class report; save the model (model.joblib) and PNG figures "
            f"({', '.join(FIGURES)}) to --out."
        ),
    )
    demo.add_argument(
        "--dataset",
        choices=DATASETS,
        default="digits",
        help=(
            "digits: scikit-learn's 8x8 digits (offline, the default); "
            "cats-vs-dogs / cifar10: CIFAR-10 from --data-home (train on "
            "data_batch_1-4, validate on data_batch_5)"
        ),
    )
    demo.add_argument(
        "--data-home",
        metavar="DIR",
        default=None,
        help=(
            "folder holding cifar-10-batches-py/ (default: $SKLEARN_GABOR_DATA, "
            "else scikit-learn's data home)"
        ),
    )
    demo.add_argument(
        "--download",
        action="store_true",
        help="download CIFAR-10 (about 170 MB) into --data-home when it is missing",
    )
    demo.add_argument(
        "--out", metavar="DIR", default="demo_output", help="output folder (default: %(default)s)"
    )
    demo.add_argument(
        "--quick", action="store_true", help="smaller grid, fewer folds and samples (a smoke test)"
    )
    demo.add_argument(
        "-j",
        "--n-jobs",
        type=_n_jobs,
        default=1,
        metavar="N",
        help="parallel fits in the grid search (-1: all cores; default: %(default)s)",
    )
    return parser


def _settings(dataset, quick):
    cfg = dict(_CONFIG["digits" if dataset == "digits" else "cifar"])
    overrides = cfg.pop("quick")
    if quick:
        cfg.update(overrides)
    return cfg


def _check_matplotlib():
    try:
        import matplotlib
    except ImportError:
        raise CLIError(
            "the demo draws figures with matplotlib, which is not installed: "
            "pip install sklearn-gabor[plot]"
        ) from None
    matplotlib.use("Agg")  # files only, never a window


def _load_digits(cfg):
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    X = digits.data / 16.0  # pixel values 0..16 -> [0, 1]
    X_train, X_test, y_train, y_test = train_test_split(
        X, digits.target, test_size=0.2, stratify=digits.target, random_state=0
    )
    return {
        "name": "digits",
        "X_train": X_train,
        "y_train": y_train,
        "X_val": None,
        "y_val": None,
        "X_test": X_test,
        "y_test": y_test,
        "target_names": [str(t) for t in digits.target_names],
        "summary": (
            f"digits: {len(X)} images of 8x8 pixels, 10 classes; "
            f"train {len(X_train)} / test {len(X_test)} (stratified, random_state=0)"
        ),
    }


def _load_cifar(dataset, cfg, data_home, download):
    from .datasets import fetch_cifar10

    cifar = fetch_cifar10(
        data_home=data_home, subset="train", download_if_missing=download
    )
    X, y = cifar.data, cifar.target
    names = list(cifar.target_names)
    in_val = np.asarray(cifar.batch) == "data_batch_5"
    if dataset == "cats-vs-dogs":
        keep = np.isin(y, [3, 5])  # cat, dog
        X, y, in_val = X[keep], (y[keep] == 5).astype(np.int64), in_val[keep]
        names = ["cat", "dog"]
    X_train, y_train = X[~in_val][: cfg["n_train"]], y[~in_val][: cfg["n_train"]]
    X_val, y_val = X[in_val][: cfg["n_val"]], y[in_val][: cfg["n_val"]]

    X_test = y_test = None
    try:
        test = fetch_cifar10(data_home=data_home, subset="test", download_if_missing=False)
    except FileNotFoundError:
        pass
    else:
        X_test, y_test = test.data, test.target
        if dataset == "cats-vs-dogs":
            keep = np.isin(y_test, [3, 5])
            X_test, y_test = X_test[keep], (y_test[keep] == 5).astype(np.int64)
    n_test = "no test_batch" if X_test is None else f"test {len(X_test)}"
    return {
        "name": dataset,
        "X_train": X_train,
        "y_train": y_train,
        "X_val": X_val,
        "y_val": y_val,
        "X_test": X_test,
        "y_test": y_test,
        "target_names": names,
        "summary": (
            f"{dataset}: 32x32 RGB images, {len(names)} classes; train {len(X_train)} "
            f"(data_batch_1-4) / validation {len(X_val)} (data_batch_5) / {n_test}"
        ),
    }


def _make_pipeline(cfg, memory):
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    from . import GaborTransformer, GDSoftmaxClassifier

    return Pipeline(
        [
            ("gabor", GaborTransformer(image_shape=cfg["image_shape"], **cfg["gabor"])),
            ("scale", StandardScaler()),
            ("classifier", GDSoftmaxClassifier(solver="gd", max_iter=cfg["max_iter"])),
        ],
        memory=memory,
    )


def _search_split(data, cfg):
    """What the grid search fits on and how it validates.

    Returns ``(X, y, cv, refit, n_splits, what, val_note)``: cross-validation
    on the training set (refit on all of it) when there is no validation
    batch, else one predefined split (train ``data_batch_1``-``4``, validate
    ``data_batch_5``).
    """
    from sklearn.model_selection import PredefinedSplit, StratifiedKFold

    if data["X_val"] is None:
        n_splits = cfg["cv"]
        cv = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=0)
        return (data["X_train"], data["y_train"], cv, True, n_splits,
                f"{n_splits}-fold cross-validation",
                f"mean {n_splits}-fold CV accuracy of the best learning rate")
    X = np.concatenate([data["X_train"], data["X_val"]])
    y = np.concatenate([data["y_train"], data["y_val"]])
    cv = PredefinedSplit(np.r_[np.full(len(data["X_train"]), -1), np.zeros(len(data["X_val"]))])
    return (X, y, cv, False, 1, "train data_batch_1-4 / validate data_batch_5",
            "data_batch_5, model trained on data_batch_1-4")


def _report_rates(res, max_iter, n_splits, progress):
    """One line per learning rate: its accuracy and whether it converged."""
    unfinished = 0
    for i, lr in enumerate(res["param_classifier__learning_rate"]):
        score = res["mean_test_accuracy"][i]
        if np.isnan(score):
            progress(f"  learning_rate={lr:g}: failed (diverged or error)")
            continue
        spread = f" +/- {res['std_test_accuracy'][i]:.4f}" if n_splits > 1 else ""
        epochs = res["mean_test_epochs"][i]
        if epochs >= max_iter:
            unfinished += 1
            status = f"ran all {max_iter} epochs: reached max_iter, not converged"
        else:
            status = f"converged in {epochs:.0f} epochs" + (" on average" if n_splits > 1 else "")
        progress(
            f"  learning_rate={lr:g}: validation accuracy {score:.4f}{spread}"
            f" (fit {res['mean_fit_time'][i]:.1f}s, {status})"
        )
    if np.all(np.isnan(res["mean_test_accuracy"])):
        raise CLIError("every learning rate failed to fit; see the warnings above")
    if unfinished:
        n_rates = len(res["param_classifier__learning_rate"])
        progress(
            f"  note: {unfinished} of {n_rates} learning rates reached max_iter={max_iter} "
            "before converging (their ConvergenceWarnings are on stderr); "
            "their accuracies are those of unfinished fits"
        )


def _grid_search(pipe, data, cfg, n_jobs, progress):
    """Grid search over learning rates; returns ``(result, model)``.

    ``result`` holds the best parameters, their validation accuracy and a note
    saying what that accuracy was measured on. Each learning rate's line
    says whether its fits converged or ran to ``max_iter``.
    """
    from sklearn.base import clone
    from sklearn.model_selection import GridSearchCV

    lrs = cfg["learning_rates"]
    X_search, y_search, cv, refit, n_splits, what, val_note = _search_split(data, cfg)
    progress(
        f"grid search: learning_rate in {lrs} x {what} = {len(lrs) * n_splits} fits"
        f" (n_jobs={n_jobs})"
    )
    search = GridSearchCV(
        pipe,
        {"classifier__learning_rate": lrs},
        cv=cv,
        scoring={"accuracy": "accuracy", "epochs": _epochs},
        error_score=np.nan,
        refit="accuracy" if refit else False,
        n_jobs=n_jobs,
        verbose=0 if data["name"] == "digits" else 2,
    )
    search.fit(X_search, y_search)
    res = search.cv_results_
    _report_rates(res, cfg["max_iter"], n_splits, progress)
    if refit:
        best = search.best_index_
        model = search.best_estimator_
    else:
        best = int(np.nanargmax(res["mean_test_accuracy"]))
        progress("fitting the best pipeline on the training batches")
        model = clone(pipe).set_params(**res["params"][best])
        model.fit(data["X_train"], data["y_train"])
    result = {
        "best_params": res["params"][best],
        "best_score": res["mean_test_accuracy"][best],
        "val_note": val_note,
    }
    return result, model


def _templates_figure(data, cfg, out, progress):
    """Raw-pixel softmax; its ``coef_`` rows as images. Returns (path, accuracy)."""
    from . import GDSoftmaxClassifier
    from .plotting import TemplatesDisplay

    n = cfg.get("n_templates")
    X = np.asarray(data["X_train"][:n], dtype=np.float64)
    y = data["y_train"][:n]
    if X.max() > 1.0:
        X = X / 255.0
    # centre by the mean image and scale by one global constant: the weights
    # stay in pixel space and read as images
    mean, scale = X.mean(axis=0), X.std()
    clf = GDSoftmaxClassifier(
        solver="gd", alpha=cfg["template_alpha"], max_iter=cfg["max_iter"], random_state=0
    )
    clf.fit((X - mean) / scale, y)
    X_eval, y_eval = _eval_set(data)
    X_eval = np.asarray(X_eval, dtype=np.float64)
    if data["name"] != "digits":
        X_eval = X_eval / 255.0
    acc = clf.score((X_eval - mean) / scale, y_eval)
    disp = TemplatesDisplay.from_estimator(
        clf, image_shape=cfg["image_shape"], class_names=data["target_names"]
    )
    disp.figure_.suptitle("Class templates of a softmax model on raw pixels")
    epochs = (
        f"reached max_iter={clf.n_iter_}, not converged"
        if clf.n_iter_ >= cfg["max_iter"]
        else f"converged in {clf.n_iter_} epochs"
    )
    return _save(disp.figure_, out / "templates.png"), acc, epochs


_SPLITS = (
    ("X_train", "y_train", "training", "data_batch_1-4"),
    ("X_val", "y_val", "validation", "data_batch_5"),
    ("X_test", "y_test", "test", "test_batch"),
)


def _check_every_class_present(data, quick):
    """Refuse, before training, a CIFAR-10 split that holds no image of some class.

    (The digits split is stratified.) Without this check, a folder whose
    ``data_batch_5`` lacks a class would train for minutes and then fail.
    """
    if data["name"] == "digits":
        return
    names = data["target_names"]
    for _, y_key, split, files in _SPLITS:
        y = data[y_key]
        if y is None:
            continue
        missing = [names[k] for k in range(len(names)) if not np.any(y == k)]
        if missing:
            subset = (
                " (with --quick, only the first images of each split are used)" if quick else ""
            )
            raise CLIError(
                f"the {split} split ({files}{subset}) holds no image of class "
                f"{', '.join(missing)}; every class must appear in the training, "
                "validation and test splits. Check the batches in --data-home"
            )


def _eval_set(data):
    if data["X_test"] is not None:
        return data["X_test"], data["y_test"]
    return data["X_val"], data["y_val"]


def _save(fig, path):
    import matplotlib.pyplot as plt

    try:
        _write_file(path, lambda f: fig.savefig(f, format="png", dpi=100, bbox_inches="tight"))
    finally:
        plt.close(fig)
    return path


def _figures(model, result, data, cfg, y_pred, out, progress):
    import matplotlib.pyplot as plt
    from sklearn.base import clone
    from sklearn.metrics import ConfusionMatrixDisplay

    from .exceptions import DivergenceError
    from .plotting import FilterBankDisplay, LossCurveDisplay

    disp = FilterBankDisplay.from_estimator(model)
    disp.figure_.suptitle("Gabor filter bank (real parts)")
    progress(f"figure: {_save(disp.figure_, out / 'filter_bank.png')}")

    path, acc, epochs = _templates_figure(data, cfg, out, progress)
    progress(
        f"figure: {path} (raw-pixel softmax accuracy {acc:.4f}, for comparison; {epochs})"
    )

    # one classifier per learning rate on the training features
    features = model[:-1].fit_transform(data["X_train"], data["y_train"])
    fig, ax = plt.subplots(figsize=(6, 4))
    best = result["best_params"]["classifier__learning_rate"]
    for lr in cfg["learning_rates"]:
        clf = clone(model[-1]).set_params(learning_rate=lr)
        try:
            clf.fit(features, data["y_train"])
        except DivergenceError:
            progress(f"  learning_rate={lr:g} diverged; no curve")
            continue
        label = f"learning_rate={lr:g}" + (" (best)" if lr == best else "")
        LossCurveDisplay.from_estimator(clf, label=label, ax=ax)
    ax.set_title("Training loss per learning rate")
    progress(f"figure: {_save(fig, out / 'loss_curves.png')}")

    X_eval, y_eval = _eval_set(data)
    disp = ConfusionMatrixDisplay.from_predictions(
        y_eval,
        y_pred,
        display_labels=data["target_names"],
        xticks_rotation="vertical" if len(data["target_names"]) > 2 else "horizontal",
        colorbar=False,
    )
    which = "test" if data["X_test"] is not None else "validation"
    disp.ax_.set_title(f"Confusion matrix ({which} set)")
    progress(f"figure: {_save(disp.figure_, out / 'confusion_matrix.png')}")


def _report_warnings(caught, convergence):
    """Show the warnings recorded during the demo; ConvergenceWarnings as one counted line."""
    unconverged = [w for w in caught if issubclass(w.category, convergence)]
    for w in caught:
        if not issubclass(w.category, convergence):
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    if unconverged:
        print(
            f"ConvergenceWarning: {len(unconverged)} fit(s) in this process reached max_iter "
            f"without converging; the first said: {unconverged[0].message}",
            file=sys.stderr,
            flush=True,
        )


def _output_folder(args):
    """The checked output folder, created if needed."""
    if not args.out:
        raise CLIError("--out is empty; pass the folder to write to ('.' for the current one)")
    if args.data_home == "":
        raise CLIError(
            "--data-home is empty; pass the folder that holds cifar-10-batches-py/, "
            "or leave the option out to use $SKLEARN_GABOR_DATA"
        )
    _check_matplotlib()
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CLIError(f"cannot create the output folder {out}: {exc.strerror or exc}") from None
    for name in (*FIGURES, "model.joblib"):
        if (out / name).is_dir() and not (out / name).is_symlink():
            raise CLIError(f"cannot write {out / name}: a folder of that name is in the way")
    return out


def _load_data(args, cfg):
    """The demo's dataset; a missing or unreadable one is a one-line CLIError."""
    from .datasets import CorruptDatasetError, DatasetNotFoundError, get_gabor_data_home

    try:
        if args.dataset == "digits":
            return _load_digits(cfg)
        return _load_cifar(args.dataset, cfg, args.data_home, args.download)
    except DatasetNotFoundError as exc:
        home = get_gabor_data_home(args.data_home)
        if not args.download and not any((home / d).is_dir() for d in _CIFAR_FOLDERS):
            raise CLIError(
                f"CIFAR-10 not found: no {' or '.join(_CIFAR_FOLDERS)} in {home}; "
                "pass --data-home DIR (the folder that holds it), set "
                "SKLEARN_GABOR_DATA, or add --download to fetch it (about 170 MB)"
            ) from None
        raise CLIError(str(exc)) from None
    except CorruptDatasetError as exc:
        raise CLIError(str(exc)) from None


def _print_evaluation(data, result, y_eval, y_pred):
    """Best parameters, validation and test accuracy, per-class report."""
    from sklearn.metrics import accuracy_score, classification_report

    print(f"best params: {result['best_params']}")
    print(f"validation accuracy: {result['best_score']:.4f} ({result['val_note']})")
    if data["X_test"] is not None:
        test_acc = accuracy_score(y_eval, y_pred)
        print(f"test accuracy: {test_acc:.4f} ({len(y_eval)} held-out images)")
        which = "test"
    else:
        print(
            "test accuracy: n/a (no test_batch in the data folder; the "
            "report and confusion matrix below use the validation batch)"
        )
        which = "validation"
    print(f"classification report ({which} set):")
    print(classification_report(y_eval, y_pred, target_names=data["target_names"], digits=3))


def run_demo(args):
    """Run ``sklearn-gabor demo`` with parsed ``args``; returns the exit status."""
    import joblib
    from sklearn.exceptions import ConvergenceWarning, FitFailedWarning
    from threadpoolctl import threadpool_limits

    progress = _Progress()
    out = _output_folder(args)
    cfg = _settings(args.dataset, args.quick)
    print(
        f"{PROG} {__version__} demo: dataset={args.dataset}"
        f"{' (quick)' if args.quick else ''}, n_jobs={args.n_jobs}, out={out}",
        flush=True,
    )
    data = _load_data(args, cfg)
    progress(f"loaded {data['summary']}")
    _check_every_class_present(data, args.quick)

    # Small matrices (digits) run much faster with single-threaded BLAS.
    limits = threadpool_limits(1, user_api="blas") if data["name"] == "digits" else None
    with limits or contextlib.nullcontext(), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        warnings.simplefilter("ignore", FitFailedWarning)
        with tempfile.TemporaryDirectory(prefix="sklearn-gabor-cache-") as cache:
            pipe = _make_pipeline(cfg, memory=cache)
            result, model = _grid_search(pipe, data, cfg, args.n_jobs, progress)
            X_eval, y_eval = _eval_set(data)
            y_pred = model.predict(X_eval)
            _print_evaluation(data, result, y_eval, y_pred)
            _figures(model, result, data, cfg, y_pred, out, progress)
            model.set_params(memory=None)

    _report_warnings(caught, ConvergenceWarning)
    path = out / "model.joblib"
    _write_file(path, lambda f: joblib.dump(model, f))
    progress(f"saved the fitted pipeline: {path} (joblib.load to reuse it)")
    progress("done")
    return 0


def main(argv=None):
    """Entry point of the ``sklearn-gabor`` command.

    Parameters
    ----------
    argv : list of str, default=None
        Arguments without the program name; ``None`` reads ``sys.argv[1:]``.

    Returns
    -------
    status : int
        0 on success, 2 on a usage or data error (reported in one line on
        stderr), 130 when interrupted.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        print(
            f"{PROG}: error: missing COMMAND; try '{PROG} demo' (see {PROG} --help)",
            file=sys.stderr,
        )
        return 2
    try:
        return run_demo(args)
    except CLIError as exc:
        print(f"{PROG} {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG} {args.command}: interrupted", file=sys.stderr)
        return 130
