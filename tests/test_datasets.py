"""Tests of sklearn_gabor.datasets: the CIFAR-10 loader/fetcher and make_gratings.

No test touches the network: downloads are served from archives built here
through a fake opener (``_cifar._urlopen``), and an autouse fixture makes any
real network access fail. The real-data test runs only when the environment
variable SKLEARN_GABOR_DATA points at a folder holding the training batches.
"""

import contextlib
import hashlib
import inspect
import io
import os
import pickle
import subprocess
import sys
import tarfile
import time
from pathlib import Path
from urllib.error import URLError

import numpy as np
import pytest

from sklearn_gabor.datasets import (
    CorruptDatasetError,
    DatasetNotFoundError,
    fetch_cifar10,
    get_gabor_data_home,
    load_cats_vs_dogs,
    make_gratings,
)
from sklearn_gabor.datasets import _cifar

# captured before the autouse fixture clears it for every test
REAL_DATA_HOME = os.environ.get("SKLEARN_GABOR_DATA") or None
FOLDER = "cifar-10-batches-py"
ARCHIVE = "cifar-10-python.tar.gz"
TRAIN = [f"data_batch_{i}" for i in range(1, 6)]
NAMES = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
]


@pytest.fixture(autouse=True)
def _isolated(monkeypatch, tmp_path):
    """No network, no user environment: every test starts clean."""

    def no_network(*args, **kwargs):  # pragma: no cover - only on a bug
        raise AssertionError("a test tried to access the network")

    monkeypatch.setattr(_cifar, "_urlopen", no_network)
    monkeypatch.setattr(_cifar, "_sleep", lambda seconds: None)  # retries: no waiting
    monkeypatch.delenv("SKLEARN_GABOR_DATA", raising=False)
    monkeypatch.setenv("SCIKIT_LEARN_DATA", str(tmp_path / "sklearn_default_home"))


# --------------------------------------------------------------------------
# helpers: batches in the official format


def planar(images):
    """(n, 32, 32, 3) channels-last -> (n, 3072) R-plane, G-plane, B-plane."""
    return np.ascontiguousarray(images.transpose(0, 3, 1, 2)).reshape(len(images), -1)


def write_batch(path, data, labels, label=b"batch"):
    """Write one batch as the official files do: protocol 2, bytes keys."""
    batch = {
        b"batch_label": label,
        b"labels": [int(v) for v in labels],
        b"data": np.asarray(data, dtype=np.uint8),
        b"filenames": [b"img_%d.png" % i for i in range(len(labels))],
    }
    with open(path, "wb") as f:
        pickle.dump(batch, f, protocol=2)


def write_cifar(folder, n_per_batch=6, with_test=True, seed=0):
    """Write a small CIFAR-10 copy; return {file: (images, labels)}."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    files = TRAIN + (["test_batch"] if with_test else [])
    content = {}
    for b, name in enumerate(files):
        images = rng.integers(0, 256, size=(n_per_batch, 32, 32, 3), dtype=np.uint8)
        labels = (np.arange(n_per_batch) + b) % 10
        write_batch(folder / name, planar(images), labels, label=name.encode())
        content[name] = (images, labels)
    with open(folder / "batches.meta", "wb") as f:
        meta = {
            b"num_cases_per_batch": n_per_batch,
            b"label_names": [n.encode() for n in NAMES],
            b"num_vis": 3072,
        }
        pickle.dump(meta, f, protocol=2)
    return content


def expected(content, files, classes=None):
    images = np.concatenate([content[f][0] for f in files])
    labels = np.concatenate([content[f][1] for f in files])
    if classes is None:
        return images, labels
    keep = np.isin(labels, classes)
    relabel = {c: i for i, c in enumerate(classes)}
    return images[keep], np.array([relabel[v] for v in labels[keep]])


@pytest.fixture
def home(tmp_path):
    """A data home with a small full CIFAR-10 copy (train + test)."""
    home = tmp_path / "home"
    content = write_cifar(home / FOLDER)
    return home, content


# --------------------------------------------------------------------------
# loading


def test_pixel_order_known_values(tmp_path):
    """The planar rows become channels-last images with the right pixels."""
    folder = tmp_path / FOLDER
    write_cifar(folder, n_per_batch=3)
    data = np.zeros((3, 3072), dtype=np.uint8)
    data[0, 0] = 10  # R of pixel (0, 0)
    data[0, 1024] = 20  # G of pixel (0, 0)
    data[0, 2048] = 30  # B of pixel (0, 0)
    data[0, 1] = 40  # R of pixel (row 0, col 1)
    data[0, 32] = 50  # R of pixel (row 1, col 0)
    data[0, 1024 + 32 * 2 + 5] = 60  # G of pixel (row 2, col 5)
    data[0, 2048 + 1023] = 70  # B of pixel (row 31, col 31)
    data[2, 2048 + 32 * 7 + 3] = 80  # third image, B of pixel (7, 3)
    write_batch(folder / "data_batch_1", data, [6, 9, 9])

    cifar = fetch_cifar10(data_home=tmp_path)
    img = cifar.images[0]
    assert tuple(img[0, 0]) == (10, 20, 30)
    assert img[0, 1, 0] == 40
    assert img[1, 0, 0] == 50
    assert img[2, 5, 1] == 60
    assert img[31, 31, 2] == 70
    assert cifar.images[2, 7, 3, 2] == 80
    assert np.count_nonzero(img) == 7
    # data: (H, W, C) flattened, pixel (i, j) channel c at (32 i + j) * 3 + c
    assert tuple(cifar.data[0, :4]) == (10, 20, 30, 40)
    assert cifar.data[0, 32 * 3] == 50
    assert cifar.data[0, (32 * 2 + 5) * 3 + 1] == 60
    assert cifar.data[0, 3071] == 70
    assert list(cifar.target[:3]) == [6, 9, 9]


def test_bunch_layout_and_views(home):
    home, content = home
    cifar = fetch_cifar10(data_home=home)
    n = 5 * 6
    assert cifar.images.shape == (n, 32, 32, 3)
    assert cifar.data.shape == (n, 3072)
    assert cifar.images.dtype == cifar.data.dtype == np.uint8
    assert np.shares_memory(cifar.data, cifar.images)
    assert cifar.data.base is cifar.images or cifar.data.base is cifar.images.base
    assert cifar.images.flags.c_contiguous
    images, labels = expected(content, TRAIN)
    np.testing.assert_array_equal(cifar.images, images)
    np.testing.assert_array_equal(cifar.data, images.reshape(n, -1))
    np.testing.assert_array_equal(cifar.target, labels)
    assert cifar.target.dtype == np.int64
    assert list(cifar.target_names) == NAMES
    assert "CIFAR-10" in cifar.DESCR and "(H, W, C)" in cifar.DESCR


@pytest.mark.parametrize(
    "subset, files",
    [("train", TRAIN), ("test", ["test_batch"]), ("all", TRAIN + ["test_batch"])],
)
def test_subsets(home, subset, files):
    home, content = home
    X, y = fetch_cifar10(data_home=home, subset=subset, return_X_y=True)
    images, labels = expected(content, files)
    np.testing.assert_array_equal(X, images.reshape(len(images), -1))
    np.testing.assert_array_equal(y, labels)


def test_invalid_subset(home):
    with pytest.raises(ValueError, match="subset must be one of"):
        fetch_cifar10(data_home=home[0], subset="validation")


@pytest.mark.parametrize(
    "classes", [["dog", "cat", "ship"], [5, 3, 8], ["dog", 3, np.int64(8)]]
)
def test_classes_select_and_relabel_in_given_order(home, classes):
    home, content = home
    cifar = fetch_cifar10(data_home=home, subset="all", classes=classes)
    images, labels = expected(content, TRAIN + ["test_batch"], classes=[5, 3, 8])
    assert len(labels) > 0
    np.testing.assert_array_equal(cifar.images, images)
    np.testing.assert_array_equal(cifar.target, labels)
    assert set(cifar.target) == {0, 1, 2}
    assert list(cifar.target_names) == ["dog", "cat", "ship"]
    assert np.shares_memory(cifar.data, cifar.images)
    # each image says which file it came from (train on 1-4, validate on 5)
    files = TRAIN + ["test_batch"]
    origin = np.concatenate([[f] * len(content[f][1]) for f in files])
    kept = np.isin(np.concatenate([content[f][1] for f in files]), [5, 3, 8])
    np.testing.assert_array_equal(cifar.batch, origin[kept])


def test_single_class_name(home):
    cifar = fetch_cifar10(data_home=home[0], classes="frog")
    assert len(cifar.target) > 0 and set(cifar.target) == {0}
    assert list(cifar.target_names) == ["frog"]


@pytest.mark.parametrize(
    "classes, err, msg",
    [
        (["cat", "dgo"], ValueError, "Unknown CIFAR-10 class name 'dgo'.*airplane"),
        ([3, 10], ValueError, "class index 10 is out of range"),
        (["cat", 3], ValueError, "contains a class twice"),
        ([], ValueError, "at least one class"),
        ([True], TypeError, "names \\(str\\) or indices \\(int\\)"),
        ([3.0], TypeError, "names \\(str\\) or indices \\(int\\)"),
    ],
)
def test_bad_classes(home, classes, err, msg):
    with pytest.raises(err, match=msg):
        fetch_cifar10(data_home=home[0], classes=classes)


def test_unknown_class_fails_before_download(tmp_path):
    """A typo in a class name does not start a download."""
    with pytest.raises(ValueError, match="Unknown CIFAR-10 class name 'kitten'"):
        fetch_cifar10(data_home=tmp_path / "empty", classes=["kitten"])
    assert not (tmp_path / "empty").exists()


def test_load_cats_vs_dogs(home):
    home, content = home
    cats_dogs = load_cats_vs_dogs(data_home=home, subset="all")
    images, labels = expected(content, TRAIN + ["test_batch"], classes=[3, 5])
    np.testing.assert_array_equal(cats_dogs.images, images)
    np.testing.assert_array_equal(cats_dogs.target, labels)
    assert list(cats_dogs.target_names) == ["cat", "dog"]
    original = np.concatenate([content[f][1] for f in TRAIN + ["test_batch"]])
    original = original[np.isin(original, [3, 5])]
    assert np.all(cats_dogs.target[original == 3] == 0)  # cat -> 0
    assert np.all(cats_dogs.target[original == 5] == 1)  # dog -> 1
    onehot = np.eye(2, dtype=int)[cats_dogs.target]
    assert tuple(onehot[original == 3][0]) == (1, 0)
    assert tuple(onehot[original == 5][0]) == (0, 1)
    X, y = load_cats_vs_dogs(data_home=home, return_X_y=True)
    assert X.shape == (len(y), 3072) and set(y) <= {0, 1}
    with pytest.raises(TypeError, match="classes"):
        load_cats_vs_dogs(data_home=home, classes=["cat"])


# --------------------------------------------------------------------------
# where the data is looked for


def test_data_home_resolution_order(tmp_path, monkeypatch):
    arg = tmp_path / "arg"
    env = tmp_path / "env"
    default = tmp_path / "sk"
    write_cifar(arg / FOLDER, n_per_batch=1, with_test=False)
    write_cifar(env / FOLDER, n_per_batch=2, with_test=False)
    write_cifar(default / FOLDER, n_per_batch=3, with_test=False)
    monkeypatch.setenv("SCIKIT_LEARN_DATA", str(default))

    def n_images(**kw):
        return len(fetch_cifar10(download_if_missing=False, **kw).target)

    assert n_images() == 15  # sklearn.datasets.get_data_home()
    assert get_gabor_data_home() == default
    monkeypatch.setenv("SKLEARN_GABOR_DATA", "")  # empty counts as unset
    assert n_images() == 15
    monkeypatch.setenv("SKLEARN_GABOR_DATA", str(env))
    assert n_images() == 10  # the environment variable beats sklearn's home
    assert get_gabor_data_home() == env
    assert n_images(data_home=arg) == 5  # the argument beats both
    assert n_images(data_home=str(arg)) == 5
    assert get_gabor_data_home(arg) == arg


def test_data_home_cifar10_subfolder_and_tilde(tmp_path, monkeypatch):
    write_cifar(tmp_path / "cifar10" / FOLDER, n_per_batch=2, with_test=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    cifar = fetch_cifar10(data_home="~", download_if_missing=False)
    assert len(cifar.target) == 10
    monkeypatch.setenv("SKLEARN_GABOR_DATA", str(tmp_path))
    assert len(fetch_cifar10(download_if_missing=False).target) == 10


def test_not_found_without_download(tmp_path):
    home = tmp_path / "nothing"
    with pytest.raises(DatasetNotFoundError) as info:
        fetch_cifar10(data_home=home, download_if_missing=False)
    msg = str(info.value)
    assert str(home / FOLDER) in msg
    assert str(home / "cifar10" / FOLDER) in msg
    assert "download_if_missing=False" in msg
    assert "SKLEARN_GABOR_DATA" in msg
    assert isinstance(info.value, FileNotFoundError)
    assert not home.exists()


def test_missing_test_batch(tmp_path):
    folder = tmp_path / FOLDER
    write_cifar(folder, n_per_batch=2, with_test=False)
    assert len(fetch_cifar10(data_home=tmp_path).target) == 10  # train is fine
    for subset in ("test", "all"):
        with pytest.raises(DatasetNotFoundError) as info:
            fetch_cifar10(data_home=tmp_path, subset=subset)
        msg = str(info.value)
        assert "test_batch" in msg and "missing" in msg
        assert str(folder) in msg
        assert "subset='train'" in msg


def test_missing_training_batch(tmp_path):
    folder = tmp_path / FOLDER
    write_cifar(folder, n_per_batch=2)
    (folder / "data_batch_4").unlink()
    with pytest.raises(DatasetNotFoundError, match="needs data_batch_4, which is"):
        fetch_cifar10(data_home=tmp_path)


# --------------------------------------------------------------------------
# damaged files


def _truncate(path):
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])


def _garbage(path):
    path.write_bytes(b"this is not a pickle at all" * 10)


def _empty(path):
    path.write_bytes(b"")


def _wrong_shape(path):
    write_batch(path, np.zeros((2, 1024), dtype=np.uint8), [0, 1])


def _wrong_dtype(path):
    with open(path, "wb") as f:
        batch = {b"data": np.zeros((2, 3072), dtype=np.float64), b"labels": [0, 1]}
        pickle.dump(batch, f, protocol=2)


def _label_count(path):
    write_batch(path, np.zeros((2, 3072), dtype=np.uint8), [0, 1, 2])


def _label_range(path):
    write_batch(path, np.zeros((2, 3072), dtype=np.uint8), [0, 10])


def _not_a_dict(path):
    with open(path, "wb") as f:
        pickle.dump([1, 2, 3], f, protocol=2)


@pytest.mark.parametrize(
    "damage, detail",
    [
        (_truncate, "truncated"),
        (_garbage, "UnpicklingError"),
        (_empty, "EOFError"),
        (_wrong_shape, r"shape \(n, 3072\)"),
        (_wrong_dtype, "uint8"),
        (_label_count, "b'labels' must be 2 integers"),
        (_label_range, "0..9"),
        (_not_a_dict, "expected a dict"),
    ],
)
def test_corrupt_batch(tmp_path, damage, detail):
    folder = tmp_path / FOLDER
    write_cifar(folder, n_per_batch=2)
    damage(folder / "data_batch_3")
    with pytest.raises(CorruptDatasetError, match=detail) as info:
        fetch_cifar10(data_home=tmp_path)
    msg = str(info.value)
    assert str(folder / "data_batch_3") in msg
    assert "found:" in msg and "left as it is" in msg
    assert "delete" not in msg.lower()  # never advice that loses data
    # the other subset is still readable
    assert len(fetch_cifar10(data_home=tmp_path, subset="test").target) == 2


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (str(self.marker),))


def test_batch_pickle_cannot_run_code(tmp_path):
    """A batch is unpickled with an allow-list: foreign globals are refused."""
    folder = tmp_path / FOLDER
    write_cifar(folder, n_per_batch=2)
    marker = tmp_path / "pwned"
    with open(folder / "data_batch_1", "wb") as f:
        pickle.dump({b"data": _Evil(marker), b"labels": [0]}, f, protocol=2)
    with pytest.raises(CorruptDatasetError, match="refusing to load the global"):
        fetch_cifar10(data_home=tmp_path)
    assert not marker.exists()


# --------------------------------------------------------------------------
# downloading (through a fake opener, never the network)


def make_archive(tmp_path, n_per_batch=2, extra_member=None):
    """Build a small cifar-10-python.tar.gz in memory; return (bytes, content)."""
    src = tmp_path / "archive_src"
    content = write_cifar(src / FOLDER, n_per_batch=n_per_batch, seed=1)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        tar.add(src / FOLDER, arcname=FOLDER)
        if extra_member is not None:
            info = tarfile.TarInfo(extra_member)
            info.size = 4
            tar.addfile(info, io.BytesIO(b"evil"))
    return buf.getvalue(), content


class FakeResponse(io.BytesIO):
    """What urlopen returns: read(n), headers with Content-Length, close()."""

    def __init__(self, payload, fail_after=None, length=None):
        super().__init__(payload)
        self.fail_after = fail_after
        length = len(payload) if length is None else length
        self.headers = {"Content-Length": str(length)}

    def read(self, n=-1):
        if self.fail_after is not None and self.tell() >= self.fail_after:
            raise ConnectionResetError(104, "Connection reset by peer")
        return super().read(n)


class FakeOpener:
    def __init__(self, payload=None, error=None, **response_kw):
        self.payload, self.error, self.response_kw = payload, error, response_kw
        self.calls = []

    def __call__(self, url, timeout=None):
        self.calls.append((url, timeout))
        if self.error is not None:
            raise self.error
        return FakeResponse(self.payload, **self.response_kw)


def leftovers(path):
    return sorted(p.name for p in Path(path).iterdir()) if Path(path).exists() else []


def test_download_verify_extract_load(tmp_path, monkeypatch, capsys):
    payload, content = make_archive(tmp_path)
    monkeypatch.setattr(_cifar, "CIFAR10_MD5", hashlib.md5(payload).hexdigest())
    monkeypatch.setattr(_cifar, "_CHUNK", 4096)
    opener = FakeOpener(payload)
    monkeypatch.setattr(_cifar, "_urlopen", opener)
    home = tmp_path / "new" / "home"  # created on demand

    cifar = fetch_cifar10(data_home=home, subset="all")

    assert [url for url, _ in opener.calls] == [
        "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    ]
    images, labels = expected(content, TRAIN + ["test_batch"])
    np.testing.assert_array_equal(cifar.images, images)
    np.testing.assert_array_equal(cifar.target, labels)
    # only the unpacked folder remains: no archive, no temporary file
    assert leftovers(home) == [FOLDER]
    assert sorted(leftovers(home / FOLDER)) == sorted(
        TRAIN + ["test_batch", "batches.meta"]
    )
    err = capsys.readouterr().err
    assert "Downloading CIFAR-10" in err and "100%" in err
    # second call: found on disk, no download
    fetch_cifar10(data_home=home)
    assert len(opener.calls) == 1


class _Tty(io.StringIO):
    def isatty(self):
        return True


def test_progress_display():
    tty = _Tty()
    progress = _cifar._Progress(total=2_000_000, stream=tty)
    for _ in range(4):
        progress.update(500_000)
    progress.close()
    out = tty.getvalue()
    assert out.startswith("\rDownloading CIFAR-10:") and out.endswith("\n")
    assert "100% (2.0 MB of 2.0 MB)" in out and out.count("\n") == 1
    log = io.StringIO()  # not a terminal: a line every 10 %, size if unknown
    progress = _cifar._Progress(total=None, stream=log)
    progress.update(3000)
    progress.close()
    assert log.getvalue() == "Downloading CIFAR-10: 3.0 kB\n"


def test_published_checksum():
    url = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    assert _cifar.CIFAR10_URL == url
    assert _cifar.CIFAR10_MD5 == "c58f30108f718f92721af3b95e74349a"


def test_checksum_mismatch_leaves_nothing(tmp_path, monkeypatch):
    payload, _ = make_archive(tmp_path)
    monkeypatch.setattr(_cifar, "_urlopen", FakeOpener(payload))
    home = tmp_path / "home"
    with pytest.raises(CorruptDatasetError) as info:
        fetch_cifar10(data_home=home)  # the official MD5 cannot match
    msg = str(info.value)
    assert "Checksum mismatch" in msg
    assert hashlib.md5(payload).hexdigest() in msg
    assert "c58f30108f718f92721af3b95e74349a" in msg
    assert str(home / FOLDER) in msg
    assert leftovers(home) == []


def test_interrupted_download_leaves_nothing(tmp_path, monkeypatch):
    payload, content = make_archive(tmp_path)
    monkeypatch.setattr(_cifar, "CIFAR10_MD5", hashlib.md5(payload).hexdigest())
    monkeypatch.setattr(_cifar, "_CHUNK", 1024)
    opener = FakeOpener(payload, fail_after=len(payload) // 2)
    monkeypatch.setattr(_cifar, "_urlopen", opener)
    home = tmp_path / "home"
    with pytest.raises(DatasetNotFoundError) as info:
        fetch_cifar10(data_home=home, n_retries=0)
    msg = str(info.value)
    assert "ConnectionResetError" in msg and _cifar.CIFAR10_URL in msg
    assert "nothing was written" in msg
    assert len(opener.calls) == 1  # n_retries=0: one attempt
    assert leftovers(home) == []
    # a later, complete download works
    monkeypatch.setattr(_cifar, "_urlopen", FakeOpener(payload))
    assert len(fetch_cifar10(data_home=home).target) == 10


def test_short_download_leaves_nothing(tmp_path, monkeypatch):
    """The server closes early: fewer bytes than Content-Length."""
    payload, _ = make_archive(tmp_path)
    monkeypatch.setattr(_cifar, "CIFAR10_MD5", hashlib.md5(payload).hexdigest())
    monkeypatch.setattr(
        _cifar, "_urlopen", FakeOpener(payload[:-100], length=len(payload))
    )
    home = tmp_path / "home"
    with pytest.raises(DatasetNotFoundError, match="stopped after"):
        fetch_cifar10(data_home=home, n_retries=0)
    assert leftovers(home) == []


def test_offline_error(tmp_path, monkeypatch):
    error = URLError("[Errno -3] Temporary failure in name resolution")
    opener = FakeOpener(error=error)
    monkeypatch.setattr(_cifar, "_urlopen", opener)
    home = tmp_path / "home"
    with pytest.warns(UserWarning, match="Retrying the download") as record:
        with pytest.raises(DatasetNotFoundError) as info:
            fetch_cifar10(data_home=home, n_retries=2, delay=0.5)
    assert len(record) == 2 and "retry 2 of 2" in str(record[-1].message)
    msg = str(info.value)
    assert "(3 attempts)" in msg
    assert "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz" in msg
    assert str(home / FOLDER) in msg
    assert "Temporary failure in name resolution" in msg
    assert "SKLEARN_GABOR_DATA" in msg
    assert isinstance(info.value.__cause__, URLError)
    assert len(opener.calls) == 3
    assert leftovers(home) == []


def test_no_download_when_not_allowed(tmp_path, monkeypatch):
    opener = FakeOpener(b"")
    monkeypatch.setattr(_cifar, "_urlopen", opener)
    with pytest.raises(DatasetNotFoundError):
        fetch_cifar10(data_home=tmp_path / "home", download_if_missing=False)
    assert opener.calls == []


def test_unpack_failure_keeps_the_verified_archive(tmp_path, monkeypatch):
    """An archive that passed its checksum is kept when it cannot be unpacked."""
    payload = b"\x1f\x8b not really a gzip file" * 50
    monkeypatch.setattr(_cifar, "CIFAR10_MD5", hashlib.md5(payload).hexdigest())
    monkeypatch.setattr(_cifar, "_urlopen", FakeOpener(payload))
    home = tmp_path / "home"
    with pytest.raises(CorruptDatasetError, match="Could not unpack") as info:
        fetch_cifar10(data_home=home)
    assert "passed its checksum and was kept" in str(info.value)
    assert leftovers(home) == [ARCHIVE]  # no temporary folder, the archive kept
    assert (home / ARCHIVE).read_bytes() == payload


def test_archive_path_traversal_refused(tmp_path, monkeypatch):
    payload, _ = make_archive(tmp_path, extra_member=f"{FOLDER}/../../escaped")
    monkeypatch.setattr(_cifar, "CIFAR10_MD5", hashlib.md5(payload).hexdigest())
    monkeypatch.setattr(_cifar, "_urlopen", FakeOpener(payload))
    home = tmp_path / "a" / "home"
    with pytest.raises(CorruptDatasetError, match="Refusing to extract"):
        fetch_cifar10(data_home=home)
    assert leftovers(home) == [ARCHIVE]
    assert not (tmp_path / "a" / "escaped").exists()
    assert not (tmp_path / "escaped").exists()


def test_reuses_complete_archive_on_disk(tmp_path, monkeypatch):
    """A verified archive left from an earlier run is unpacked, not re-fetched."""
    payload, _ = make_archive(tmp_path)
    monkeypatch.setattr(_cifar, "CIFAR10_MD5", hashlib.md5(payload).hexdigest())
    home = tmp_path / "home"
    home.mkdir()
    (home / "cifar-10-python.tar.gz").write_bytes(payload)
    assert len(fetch_cifar10(data_home=home).target) == 10  # no opener call
    # the user's archive is not deleted after a successful unpack
    assert leftovers(home) == [FOLDER, ARCHIVE]
    assert (home / ARCHIVE).read_bytes() == payload


# --------------------------------------------------------------------------
# files are never lost


def _interrupt(*args, **kwargs):
    raise KeyboardInterrupt


def test_ctrl_c_while_unpacking_keeps_the_downloaded_archive(tmp_path, monkeypatch):
    payload, _ = make_archive(tmp_path)
    monkeypatch.setattr(_cifar, "CIFAR10_MD5", hashlib.md5(payload).hexdigest())
    opener = FakeOpener(payload)
    monkeypatch.setattr(_cifar, "_urlopen", opener)
    monkeypatch.setattr(tarfile.TarFile, "extractall", _interrupt)
    home = tmp_path / "home"
    with pytest.raises(KeyboardInterrupt):
        fetch_cifar10(data_home=home)
    assert leftovers(home) == [ARCHIVE]  # verified archive kept, temporary folder gone
    monkeypatch.undo()
    monkeypatch.setattr(_cifar, "CIFAR10_MD5", hashlib.md5(payload).hexdigest())
    monkeypatch.setattr(_cifar, "_urlopen", FakeOpener(error=AssertionError("no download")))
    assert len(fetch_cifar10(data_home=home).target) == 10  # unpacked from the kept archive
    assert leftovers(home) == [FOLDER, ARCHIVE]
    assert len(opener.calls) == 1


@pytest.mark.parametrize("failure", [KeyboardInterrupt, OSError(28, "No space left on device")])
def test_user_placed_archive_survives_a_failed_unpack(tmp_path, monkeypatch, failure):
    payload, _ = make_archive(tmp_path)
    monkeypatch.setattr(_cifar, "CIFAR10_MD5", hashlib.md5(payload).hexdigest())
    home = tmp_path / "home"
    home.mkdir()
    (home / ARCHIVE).write_bytes(payload)

    def fail(*args, **kwargs):
        raise failure

    monkeypatch.setattr(tarfile.TarFile, "extractall", fail)
    expected_error = KeyboardInterrupt if failure is KeyboardInterrupt else CorruptDatasetError
    with pytest.raises(expected_error) as info:
        fetch_cifar10(data_home=home)
    if expected_error is CorruptDatasetError:
        assert "No space left on device" in str(info.value)
        assert "was kept" in str(info.value)
    assert leftovers(home) == [ARCHIVE]
    assert (home / ARCHIVE).read_bytes() == payload


def test_user_archive_with_another_checksum_is_left_untouched(tmp_path, monkeypatch):
    opener = FakeOpener(b"")
    monkeypatch.setattr(_cifar, "_urlopen", opener)
    home = tmp_path / "home"
    home.mkdir()
    (home / ARCHIVE).write_bytes(b"half of a download")
    with pytest.raises(CorruptDatasetError, match="not the official CIFAR-10 archive") as info:
        fetch_cifar10(data_home=home)
    assert "left untouched" in str(info.value)
    assert (home / ARCHIVE).read_bytes() == b"half of a download"
    assert opener.calls == []  # not overwritten by a download


@pytest.mark.parametrize("where", [FOLDER, f"cifar10/{FOLDER}", None])
def test_dangling_symlink_is_a_clear_error_and_keeps_the_archive(tmp_path, monkeypatch, where):
    payload, _ = make_archive(tmp_path)
    monkeypatch.setattr(_cifar, "CIFAR10_MD5", hashlib.md5(payload).hexdigest())
    base = tmp_path / "base"
    base.mkdir()
    (base / ARCHIVE).write_bytes(payload)
    if where is None:  # data_home itself is the dangling link
        home = tmp_path / "link_home"
        home.symlink_to(tmp_path / "gone")
        link = home
    else:
        home = base
        link = home / where
        link.parent.mkdir(exist_ok=True)
        link.symlink_to(tmp_path / "gone")
    with pytest.raises(DatasetNotFoundError) as info:
        fetch_cifar10(data_home=home)
    msg = str(info.value)
    assert f"{link} is a symbolic link to {tmp_path / 'gone'}, which does not exist" in msg
    assert "nothing was downloaded, unpacked or removed" in msg
    assert link.is_symlink()
    assert (base / ARCHIVE).read_bytes() == payload
    assert not (tmp_path / "gone").exists()


def test_a_folder_unpacked_meanwhile_by_another_process_is_used(tmp_path, monkeypatch):
    """Without the lock (e.g. on Windows), losing the race to rename is not an error."""
    payload, content = make_archive(tmp_path)
    monkeypatch.setattr(_cifar, "CIFAR10_MD5", hashlib.md5(payload).hexdigest())
    monkeypatch.setattr(_cifar, "_fetch_lock", lambda home: contextlib.nullcontext())
    home = tmp_path / "home"
    home.mkdir()
    (home / ARCHIVE).write_bytes(payload)
    original = _cifar._safe_members

    def other_process_wins(tar, dest):
        write_cifar(home / FOLDER, n_per_batch=2, seed=1)  # same files, unpacked first
        return original(tar, dest)

    monkeypatch.setattr(_cifar, "_safe_members", other_process_wins)
    cifar = fetch_cifar10(data_home=home, subset="all")
    images, labels = expected(content, TRAIN + ["test_batch"])
    np.testing.assert_array_equal(cifar.images, images)
    assert leftovers(home) == [FOLDER, ARCHIVE]  # no temporary folder left


_CONCURRENT_FETCH = """
import os, sys, time
from sklearn_gabor.datasets import _cifar, fetch_cifar10
url, md5, home, go = sys.argv[1:5]
_cifar.CIFAR10_URL, _cifar.CIFAR10_MD5 = url, md5
unpack = _cifar._extract

def slow_unpack(*args, **kwargs):  # widen the window in which both would unpack
    time.sleep(1.0)
    return unpack(*args, **kwargs)

_cifar._extract = slow_unpack
while not os.path.exists(go):
    time.sleep(0.005)
print(len(fetch_cifar10(data_home=home, subset="all").target))
"""


@pytest.mark.parametrize("placed", [False, True], ids=["download", "user-archive"])
def test_two_processes_fetch_at_once(tmp_path, placed):
    """Both succeed: the second waits for the first and reads its folder."""
    payload, _ = make_archive(tmp_path)
    served = tmp_path / "served" / ARCHIVE
    served.parent.mkdir()
    served.write_bytes(payload)
    home = tmp_path / "home"
    if placed:
        home.mkdir()
        (home / ARCHIVE).write_bytes(payload)
    go = tmp_path / "go"
    script = tmp_path / "fetch.py"
    script.write_text(_CONCURRENT_FETCH)
    args = [sys.executable, str(script), served.as_uri(), hashlib.md5(payload).hexdigest(),
            str(home), str(go)]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "SKLEARN_GABOR_DATA"}
    procs = [subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=env) for _ in range(2)]  # fmt: skip
    time.sleep(0.5)
    go.touch()
    results = [p.communicate(timeout=120) for p in procs]
    for p, (out, err) in zip(procs, results):
        assert p.returncode == 0, err
        assert out.strip() == "12"
        assert "Traceback" not in err
    assert leftovers(home) == ([FOLDER, ARCHIVE] if placed else [FOLDER])


def test_batch_resaved_with_pickle_protocol_5_is_accepted(tmp_path):
    folder = tmp_path / FOLDER
    content = write_cifar(folder, n_per_batch=3)
    with open(folder / "data_batch_2", "rb") as f:
        batch = pickle.load(f, encoding="bytes")
    with open(folder / "data_batch_2", "wb") as f:
        pickle.dump(batch, f, protocol=5)
    cifar = fetch_cifar10(data_home=tmp_path)
    images, labels = expected(content, TRAIN)
    np.testing.assert_array_equal(cifar.images, images)
    np.testing.assert_array_equal(cifar.target, labels)


def test_retries_then_success(tmp_path, monkeypatch):
    payload, _ = make_archive(tmp_path)
    monkeypatch.setattr(_cifar, "CIFAR10_MD5", hashlib.md5(payload).hexdigest())
    sleeps = []
    monkeypatch.setattr(_cifar, "_sleep", sleeps.append)

    class Flaky(FakeOpener):
        def __call__(self, url, timeout=None):
            self.calls.append(url)
            if len(self.calls) <= 2:
                raise URLError("timed out")
            return FakeResponse(payload)

    opener = Flaky()
    monkeypatch.setattr(_cifar, "_urlopen", opener)
    with pytest.warns(UserWarning, match="Retrying the download"):
        cifar = fetch_cifar10(data_home=tmp_path / "home", n_retries=2, delay=2.5)
    assert len(cifar.target) == 10
    assert len(opener.calls) == 3 and sleeps == [2.5, 2.5]


def test_checksum_mismatch_is_not_retried(tmp_path, monkeypatch):
    payload, _ = make_archive(tmp_path)
    opener = FakeOpener(payload)
    monkeypatch.setattr(_cifar, "_urlopen", opener)
    with pytest.raises(CorruptDatasetError, match="Checksum mismatch"):
        fetch_cifar10(data_home=tmp_path / "home", n_retries=5)
    assert len(opener.calls) == 1


@pytest.mark.parametrize(
    "kwargs, err, msg",
    [
        ({"n_retries": -1}, ValueError, "n_retries must be an integer >= 0"),
        ({"n_retries": 1.5}, TypeError, "n_retries must be an integer"),
        ({"delay": -1.0}, ValueError, "delay must be a finite number"),
        ({"delay": float("nan")}, ValueError, "delay must be a finite number"),
        ({"delay": "1"}, TypeError, "delay must be a number"),
        ({"data_home": ""}, ValueError, "data_home is an empty string"),
    ],
)
def test_bad_fetch_arguments(tmp_path, kwargs, err, msg):
    with pytest.raises(err, match=msg):
        fetch_cifar10(**{"data_home": tmp_path, **kwargs})
    assert leftovers(tmp_path) == []


def test_load_cats_vs_dogs_signature():
    params = inspect.signature(load_cats_vs_dogs).parameters
    assert list(params) == ["data_home", "subset", "download_if_missing", "return_X_y",
                            "n_retries", "delay"]  # fmt: skip
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params.values())
    with pytest.raises(TypeError, match="classes"):
        load_cats_vs_dogs(classes=["cat"])


def test_get_gabor_data_home_refuses_an_empty_string(monkeypatch):
    with pytest.raises(ValueError, match="empty string"):
        get_gabor_data_home("")
    monkeypatch.setenv("SKLEARN_GABOR_DATA", "")  # an empty variable counts as unset
    assert get_gabor_data_home() == Path(os.environ["SCIKIT_LEARN_DATA"])


# --------------------------------------------------------------------------
# make_gratings


def test_make_gratings_shapes_and_range():
    X, y = make_gratings(n_samples=10, image_shape=(8, 12), n_classes=3, random_state=0)
    assert X.shape == (10, 96) and y.shape == (10,)
    assert X.dtype == np.float64 and y.dtype == np.int64
    assert X.min() >= 0 and X.max() <= 1
    assert np.bincount(y).tolist() == [4, 3, 3]
    X, y = make_gratings(n_samples=4, image_shape=(8, 8, 3), random_state=0)
    assert X.shape == (4, 192)
    img = X.reshape(4, 8, 8, 3)
    assert not np.allclose(img[..., 0], img[..., 1])  # noise differs per channel
    X0, _ = make_gratings(n_samples=4, image_shape=(8, 8, 3), noise=0, random_state=0)
    img = X0.reshape(4, 8, 8, 3)
    np.testing.assert_array_equal(img[..., 0], img[..., 2])


def test_make_gratings_deterministic():
    a = make_gratings(n_samples=20, random_state=42)
    b = make_gratings(n_samples=20, random_state=42)
    c = make_gratings(n_samples=20, random_state=43)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])
    rng = np.random.RandomState(0)
    assert make_gratings(n_samples=3, random_state=rng)[0].shape == (3, 256)


def test_make_gratings_bunch_holds_the_drawn_parameters():
    """return_X_y=False: the Bunch's parameters rebuild every pixel (noise=0)."""
    X, y = make_gratings(n_samples=7, image_shape=(6, 9), n_classes=3, noise=0.0,
                         random_state=3)  # fmt: skip
    g = make_gratings(n_samples=7, image_shape=(6, 9), n_classes=3, noise=0.0,
                      random_state=3, return_X_y=False)  # fmt: skip
    np.testing.assert_array_equal(g.data, X)
    np.testing.assert_array_equal(g.target, y)
    assert g.images.shape == (7, 6, 9) and np.shares_memory(g.images, g.data)
    assert g.target_names.tolist() == ["0°", "60°", "120°"]
    np.testing.assert_allclose(g.theta, y * np.pi / 3)
    i, j = np.mgrid[0:6, 0:9]
    for s in range(7):
        t, f, p = g.theta[s], g.frequency[s], g.phase[s]
        img = 0.5 + 0.5 * np.sin(2 * np.pi * f * (j * np.cos(t) + i * np.sin(t)) + p)
        np.testing.assert_allclose(g.images[s], img, atol=1e-12)
    assert np.all((g.frequency >= 0.08) & (g.frequency <= 0.25))


def test_make_gratings_orientation_is_the_class():
    """Without noise, each image's dominant orientation is its class angle."""
    n_classes, side = 6, 32
    X, y = make_gratings(
        n_samples=60,
        image_shape=(side, side),
        n_classes=n_classes,
        noise=0.0,
        random_state=0,
        frequency_range=(0.12, 0.25),
    )
    pad = 256
    freqs = np.fft.fftfreq(pad)
    for x, label in zip(X, y):
        img = x.reshape(side, side)
        spectrum = np.abs(np.fft.fft2(img - img.mean(), s=(pad, pad)))
        i, j = np.unravel_index(np.argmax(spectrum), spectrum.shape)
        angle = np.arctan2(freqs[i], freqs[j]) % np.pi
        diff = abs(angle - label * np.pi / n_classes)
        diff = min(diff, np.pi - diff)
        assert diff < np.pi / (2 * n_classes) / 2, (label, angle)


@pytest.mark.parametrize(
    "kwargs, err, msg",
    [
        ({"n_samples": 0}, ValueError, "n_samples must be >= 1"),
        ({"n_samples": 2.5}, TypeError, "n_samples must be an integer"),
        ({"n_classes": 1}, ValueError, "n_classes must be >= 2"),
        ({"image_shape": (8,)}, ValueError, "2 or 3 entries"),
        ({"image_shape": 8}, TypeError, "image_shape must be a tuple"),
        ({"image_shape": (8, 0)}, ValueError, "image_shape entries must be >= 1"),
        ({"noise": -0.1}, ValueError, "noise must be a finite number >= 0"),
        ({"noise": "a lot"}, TypeError, "noise must be a real number"),
        ({"frequency_range": (0.1, 0.7)}, ValueError, "0 < low <= high <= 0.5"),
    ],
)
def test_make_gratings_validation(kwargs, err, msg):
    with pytest.raises(err, match=msg):
        make_gratings(**kwargs)


# --------------------------------------------------------------------------
# the real CIFAR-10 training batches (CI sets SKLEARN_GABOR_DATA)


def _real_folder():
    if REAL_DATA_HOME is None:
        return None
    home = Path(REAL_DATA_HOME).expanduser()
    for folder in (home / FOLDER, home / "cifar10" / FOLDER):
        if all((folder / f).is_file() for f in TRAIN):
            return folder
    return None


@pytest.mark.cifar
@pytest.mark.skipif(
    _real_folder() is None,
    reason="set SKLEARN_GABOR_DATA to a folder holding cifar-10-batches-py/",
)
def test_real_cifar10_training_batches():
    times = []
    for _ in range(2):  # best of two, fair to a cold file cache
        start = time.perf_counter()
        cifar = fetch_cifar10(data_home=REAL_DATA_HOME, download_if_missing=False)
        times.append(time.perf_counter() - start)
    shown = ", ".join(f"{t:.2f} s" for t in times)
    print(f"\nloading the five CIFAR-10 training batches: {shown}")
    assert min(times) < 2.0, times

    assert cifar.images.shape == (50_000, 32, 32, 3)
    assert cifar.data.shape == (50_000, 3072)
    assert np.shares_memory(cifar.data, cifar.images)
    assert np.bincount(cifar.target).tolist() == [5000] * 10
    assert (cifar.batch == "data_batch_5").sum() == 10_000
    assert (cifar.batch[:10_000] == "data_batch_1").all()
    assert list(cifar.target_names) == NAMES
    # the first image is a frog whose top-left pixel is RGB (59, 62, 63)
    assert cifar.target[:10].tolist() == [6, 9, 9, 4, 1, 1, 2, 7, 8, 3]
    assert tuple(cifar.images[0, 0, 0]) == (59, 62, 63)
    assert tuple(cifar.data[0, :3]) == (59, 62, 63)
    # per-channel means (sum over rows of 32 pixels x 3 channels is fast)
    sums = cifar.data.reshape(-1, 96).sum(axis=0, dtype=np.int64).reshape(32, 3).sum(0)
    means = sums / (50_000 * 1024 * 255)
    np.testing.assert_allclose(means, [0.4914, 0.4822, 0.4465], atol=1e-3)
