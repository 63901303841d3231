"""The ``sklearn-gabor`` command: the demo end to end and its error messages."""

import os
import pickle
import re
import shutil
import subprocess
import sys
from pathlib import Path

import joblib
import numpy as np
import pytest

from sklearn_gabor import _cli
from sklearn_gabor._cli import FIGURES, main

from conftest import write_fake_cifar

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def run_cli(*args, env=None, timeout=300):
    """Run ``python -m sklearn_gabor ARGS`` in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "sklearn_gabor", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "MPLBACKEND": "Agg", **(env or {})},
    )


def check_png(path):
    """A valid PNG of non-trivial size with a sane image shape."""
    mpimg = pytest.importorskip("matplotlib.image")
    assert path.is_file(), f"{path.name} was not written"
    assert path.read_bytes()[:8] == PNG_SIGNATURE, f"{path.name} is not a PNG"
    assert path.stat().st_size > 5_000, f"{path.name} is suspiciously small"
    image = mpimg.imread(path)
    assert image.ndim == 3 and image.shape[2] in (3, 4)
    assert 100 <= image.shape[0] <= 4000 and 100 <= image.shape[1] <= 4000
    assert image[..., :3].std() > 0.01, f"{path.name} is blank"


def check_one_line_error(result, *needles):
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("sklearn-gabor")
    assert "error:" in lines[0]
    for needle in needles:
        assert needle in lines[0]


def test_demo_quick_end_to_end(tmp_path):
    """`sklearn-gabor demo --quick` trains, reports, saves the model and figures."""
    pytest.importorskip("matplotlib")
    out = tmp_path / "demo"
    result = run_cli("demo", "--quick", "--out", out)
    assert result.returncode == 0, result.stderr
    stdout = result.stdout
    assert "Traceback" not in result.stderr

    assert re.search(r"^best params: \{'classifier__learning_rate': [0-9.]+\}$", stdout, re.M)
    val = re.search(r"^validation accuracy: (0\.\d+|1\.0+) ", stdout, re.M)
    test = re.search(r"^test accuracy: (0\.\d+|1\.0+) \(360 held-out images\)$", stdout, re.M)
    assert val and test, stdout
    assert float(val.group(1)) > 0.9
    assert float(test.group(1)) > 0.9
    assert "precision" in stdout and "recall" in stdout  # per-class report
    assert re.search(r"^\[\s*\d+\.\ds\] grid search: ", stdout, re.M)  # progress
    # every learning rate says whether its fits converged or ran to max_iter ...
    statuses = re.findall(
        r"learning_rate=[0-9.]+: validation accuracy .*\(fit [0-9.]+s, (.*)\)$", stdout, re.M
    )
    assert len(statuses) == 2, stdout  # --quick: two learning rates
    unfinished = [st for st in statuses if st.startswith("ran all 100 epochs")]
    assert all(st.startswith(("ran all 100 epochs", "converged in ")) for st in statuses)
    # ... and the ones that did not converge are counted, not hidden
    note = re.search(r"note: (\d) of 2 learning rates reached max_iter=100", stdout)
    assert (note is not None) == bool(unfinished)
    if note:
        assert int(note.group(1)) == len(unfinished)
        assert "ConvergenceWarning" in result.stderr  # shown, not filtered out

    for name in FIGURES:
        check_png(out / name)
    model = joblib.load(out / "model.joblib")
    assert [name for name, _ in model.steps] == ["gabor", "scale", "classifier"]
    assert model.memory is None
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    assert (model.predict(X / 16) == y).mean() > 0.9


def test_console_script_is_installed():
    """The `sklearn-gabor` console script runs (when the package is installed)."""
    script = shutil.which("sklearn-gabor", path=str(Path(sys.executable).parent))
    if script is None:
        pytest.skip("the console script is not installed next to this Python")
    result = subprocess.run([script, "--version"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert result.stdout.startswith("sklearn-gabor ")


@pytest.mark.parametrize(
    "args, needle",
    [
        (["demo", "--dataset", "imagenet"], "invalid choice: 'imagenet'"),
        (["demo", "-j", "0"], "-j/--n-jobs"),
        (["demo", "-j", "two"], "-j/--n-jobs"),
        (["demo", "--no-such-option"], "unrecognized arguments"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        ([], "missing COMMAND"),
    ],
)
def test_invalid_arguments(args, needle, capsys):
    """Usage errors: exit status 2 and one line on stderr (checked in-process)."""
    with pytest.raises(SystemExit) as exc:
        status = main(args)
        raise SystemExit(status)
    captured = capsys.readouterr()
    result = subprocess.CompletedProcess(args, exc.value.code, captured.out, captured.err)
    check_one_line_error(result, needle)


def test_invalid_dataset_subprocess():
    """The same through `python -m sklearn_gabor`: no traceback, exit status 2."""
    check_one_line_error(
        run_cli("demo", "--dataset", "imagenet", timeout=120), "invalid choice: 'imagenet'"
    )


def test_missing_cifar_data(tmp_path):
    """Missing data: one line naming the folder and the ways to provide it."""
    missing = tmp_path / "nonexistent"
    result = run_cli(
        "demo", "--dataset", "cifar10", "--data-home", missing, "--out", tmp_path / "o",
        env={"SKLEARN_GABOR_DATA": ""},
        timeout=120,
    )
    check_one_line_error(result, "CIFAR-10 not found", str(missing), "--download")
    assert not missing.exists()  # nothing downloaded, nothing created


def test_output_folder_is_a_file(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    status = main(["demo", "--quick", "--out", str(blocker / "sub")])
    captured = capsys.readouterr()
    result = subprocess.CompletedProcess([], status, captured.out, captured.err)
    check_one_line_error(result, "cannot create the output folder")


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--out", ""], "--out is empty"),
        (["--data-home", "", "--dataset", "cifar10"], "--data-home is empty"),
    ],
)
def test_empty_paths_are_refused(args, needle, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    status = main(["demo", "--quick", *args])
    captured = capsys.readouterr()
    check_one_line_error(subprocess.CompletedProcess([], status, captured.out, captured.err), needle)
    assert list(tmp_path.iterdir()) == []  # nothing written in the current folder


def test_demo_never_writes_through_symlinks_in_out(tmp_path):
    """Links planted in --out are replaced by the new files; their targets are untouched."""
    pytest.importorskip("matplotlib")
    out, outside = tmp_path / "out", tmp_path / "outside"
    out.mkdir()
    outside.mkdir()
    names = [*FIGURES, "model.joblib"]
    for name in names:
        (outside / name).write_bytes(b"precious " + name.encode())
        (out / name).symlink_to(outside / name)
    (out / "dangling.png").symlink_to(tmp_path / "nowhere")  # unrelated: left alone
    result = run_cli("demo", "--quick", "--out", out)
    assert result.returncode == 0, result.stderr
    for name in names:
        assert (outside / name).read_bytes() == b"precious " + name.encode()
        assert not (out / name).is_symlink() and (out / name).is_file()
        assert (out / name).stat().st_mode & 0o777 == 0o666 & ~_cli._umask()
    check_png(out / "filter_bank.png")
    joblib.load(out / "model.joblib")
    assert sorted(p.name for p in out.iterdir()) == sorted([*names, "dangling.png"])  # no temp files


def test_a_folder_in_the_way_of_an_output_is_refused_before_training(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    (tmp_path / "model.joblib").mkdir()
    status = main(["demo", "--quick", "--out", str(tmp_path)])
    captured = capsys.readouterr()
    check_one_line_error(subprocess.CompletedProcess([], status, captured.out, captured.err),
                         "a folder of that name is in the way")  # fmt: skip
    assert "grid search" not in captured.out


@pytest.mark.parametrize("dataset, missing", [("cifar10", "horse"), ("cats-vs-dogs", "dog")])
def test_a_split_without_a_class_fails_before_training(tmp_path, dataset, missing):
    """data_batch_5 without one class: one line, status 2, no training, nothing written."""
    folder = write_fake_cifar(tmp_path / "data" / "cifar-10-batches-py", with_test=False)
    with open(folder / "data_batch_5", "rb") as f:
        batch = pickle.load(f)
    gone = {"horse": 7, "dog": 5}[missing]
    batch[b"labels"] = [3 if label == gone else label for label in batch[b"labels"]]
    with open(folder / "data_batch_5", "wb") as f:
        pickle.dump(batch, f, protocol=2)
    out = tmp_path / "out"
    result = run_cli("demo", "--quick", "--dataset", dataset, "--data-home", tmp_path / "data",
                     "--out", out, timeout=120)  # fmt: skip
    check_one_line_error(result, "the validation split (data_batch_5", f"no image of class {missing}")
    assert "grid search" not in result.stdout
    assert not (out / "model.joblib").exists()


def test_missing_matplotlib_is_one_clear_line(monkeypatch, capsys, tmp_path):
    """Without matplotlib the demo stops before training, saying what to install."""
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    status = main(["demo", "--quick", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1
    assert "pip install sklearn-gabor[plot]" in err


@pytest.mark.parametrize("with_test", [True, False])
def test_demo_cats_vs_dogs_on_fake_batches(tmp_path, with_test):
    """The CIFAR path: batches 1-4 train, batch 5 validates, test only if present."""
    pytest.importorskip("matplotlib")
    write_fake_cifar(tmp_path / "data" / "cifar-10-batches-py", with_test=with_test)
    out = tmp_path / "out"
    result = run_cli(
        "demo", "--quick", "--dataset", "cats-vs-dogs",
        "--data-home", tmp_path / "data", "--out", out,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "train 32 (data_batch_1-4) / validation 8 (data_batch_5)" in result.stdout
    assert re.search(r"^validation accuracy: \d\.\d{4} \(data_batch_5", result.stdout, re.M)
    if with_test:
        assert re.search(r"^test accuracy: \d\.\d{4} \(8 held-out", result.stdout, re.M)
    else:
        assert "test accuracy: n/a (no test_batch" in result.stdout
    for name in FIGURES:
        assert (out / name).read_bytes()[:8] == PNG_SIGNATURE
    assert "cat" in result.stdout and "dog" in result.stdout


@pytest.mark.cifar
@pytest.mark.skipif(
    not os.environ.get("SKLEARN_GABOR_DATA"),
    reason="set SKLEARN_GABOR_DATA to the folder holding cifar-10-batches-py",
)
def test_demo_cats_vs_dogs_real_data(tmp_path):
    """`demo --quick --dataset cats-vs-dogs` on the real training batches."""
    pytest.importorskip("matplotlib")
    result = run_cli("demo", "--quick", "--dataset", "cats-vs-dogs", "--out", tmp_path)
    assert result.returncode == 0, result.stderr
    val = re.search(r"^validation accuracy: (0\.\d+)", result.stdout, re.M)
    assert val and float(val.group(1)) > 0.55  # well above chance on 500 images
    for name in FIGURES:
        check_png(tmp_path / name)


def test_settings_quick_overrides_full():
    full, quick = _cli._settings("digits", False), _cli._settings("digits", True)
    assert len(quick["learning_rates"]) < len(full["learning_rates"])
    assert quick["cv"] < full["cv"]
    assert _cli._settings("cifar10", True)["n_train"] == _cli._settings("cats-vs-dogs", True)["n_train"]
