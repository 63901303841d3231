"""CIFAR-10 loader and fetcher (the official "python version" archive).

The archive ``cifar-10-python.tar.gz`` published by the dataset's authors
unpacks to ``cifar-10-batches-py/`` with ``data_batch_1`` ... ``data_batch_5``,
``test_batch`` and ``batches.meta``. Each batch is a protocol-2 pickle of a
dict with bytes keys; ``b'data'`` is a ``(10000, 3072)`` uint8 array whose rows
are the red, green then blue 32x32 planes (each row-major), and ``b'labels'``
is a list of ints in ``0..9``.
"""

import contextlib
import hashlib
import os
import pickle
import shutil
import sys
import tarfile
import tempfile
import time
import urllib.request
import warnings
from numbers import Integral, Real
from pathlib import Path
from urllib.error import URLError

import numpy as np
from sklearn.utils import Bunch

from ._base import (
    DATA_ENV_VAR,
    CorruptDatasetError,
    DatasetNotFoundError,
    get_gabor_data_home,
)

__all__ = ["fetch_cifar10", "load_cats_vs_dogs"]

#: Official archive of the CIFAR-10 "python version" and its published MD5.
CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR10_MD5 = "c58f30108f718f92721af3b95e74349a"
ARCHIVE_NAME = "cifar-10-python.tar.gz"
FOLDER_NAME = "cifar-10-batches-py"

CLASS_NAMES = (
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
)
TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_FILES = ("test_batch",)
_SUBSETS = {
    "train": TRAIN_FILES,
    "test": TEST_FILES,
    "all": TRAIN_FILES + TEST_FILES,
}
_ARCHIVE_FILES = TRAIN_FILES + TEST_FILES + ("batches.meta",)

_SIDE = 32
_N_CHANNELS = 3
_N_FEATURES = _SIDE * _SIDE * _N_CHANNELS  # 3072

# The opener used to download; tests replace it with a fake that serves an
# archive built in memory, so no test ever touches the network.
_urlopen = urllib.request.urlopen
_sleep = time.sleep  # between download retries; tests replace it
_TIMEOUT = 60  # seconds, for connecting and for each read
_CHUNK = 1 << 20

DESCR = """\
.. _cifar10_dataset:

CIFAR-10 dataset
----------------

60,000 colour images of 32x32 pixels in 10 classes (airplane, automobile,
bird, cat, deer, dog, frog, horse, ship, truck): 50,000 training images
(``data_batch_1`` ... ``data_batch_5``, 5,000 per class) and 10,000 test
images (``test_batch``, 1,000 per class). Collected by Alex Krizhevsky,
Vinod Nair and Geoffrey Hinton from the 80 million tiny images dataset.

**Layout of this Bunch**

- ``images``: ``(n, 32, 32, 3)`` uint8, channels-last (height, width, RGB).
- ``data``: ``(n, 3072)`` uint8, the same memory as ``images`` flattened in
  (H, W, C) order: pixel ``(i, j)`` channel ``c`` is column
  ``(32 * i + j) * 3 + c``. Note that the official files store each image
  planar instead (1024 red, then 1024 green, then 1024 blue values).
- ``target``: labels, ``0..9`` or ``0..k-1`` in the order of ``classes``
  when a subset of classes is requested.
- ``target_names``: the class names, in the order of the labels.

Images are kept in file order (training batches 1 to 5, then the test
batch).

**Reference**

Alex Krizhevsky, *Learning Multiple Layers of Features from Tiny Images*,
technical report, University of Toronto, 2009.
https://www.cs.toronto.edu/~kriz/cifar.html
"""


# --------------------------------------------------------------------------
# locating the files


def _candidate_folders(data_home):
    return [data_home / FOLDER_NAME, data_home / "cifar10" / FOLDER_NAME]


def _find_folder(data_home):
    for folder in _candidate_folders(data_home):
        if folder.is_dir():
            return folder
    return None


def _check_no_dangling_link(path):
    """Refuse a symbolic link at ``path`` whose target does not exist."""
    if path.is_symlink() and not path.exists():
        try:
            target = os.readlink(path)
        except OSError:  # pragma: no cover - raced with its removal
            target = "a missing target"
        raise DatasetNotFoundError(
            f"{path} is a symbolic link to {target}, which does not exist. Point "
            f"the link at the folder that holds the CIFAR-10 batches, or remove "
            "it; nothing was downloaded, unpacked or removed."
        )


def _where(data_home):
    a, b = _candidate_folders(data_home)
    return f"{a}/ or {b}/"


_HOWTO = (
    f"Pass data_home, or set the environment variable {DATA_ENV_VAR}, to the "
    f"folder that holds {FOLDER_NAME}/ (or cifar10/{FOLDER_NAME}/), or "
    f"download {CIFAR10_URL} and unpack it there."
)


# --------------------------------------------------------------------------
# reading the batches


class _BatchUnpickler(pickle.Unpickler):
    """Unpickler that only builds what a CIFAR-10 batch contains.

    Pickles can run arbitrary code; a batch needs nothing but dicts, lists,
    bytes and numpy arrays, so every other global is refused.
    """

    _ALLOWED = frozenset(
        {
            # protocols 2 to 4 (the official files are protocol 2)
            ("numpy.core.multiarray", "_reconstruct"),
            ("numpy._core.multiarray", "_reconstruct"),
            ("numpy", "ndarray"),
            ("numpy", "dtype"),
            ("_codecs", "encode"),  # bytes pickled by Python 3 at protocol 2
            # protocol 5 (a batch re-saved by Python 3.8+ with the default or
            # the highest protocol): arrays are rebuilt from a buffer
            ("numpy.core.numeric", "_frombuffer"),
            ("numpy._core.numeric", "_frombuffer"),
        }
    )

    def find_class(self, module, name):
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(
                f"refusing to load the global {module}.{name}, which a "
                "CIFAR-10 batch never contains (loading it could run code)"
            )
        return super().find_class(module, name)


def _corrupt(path, what):
    return CorruptDatasetError(
        f"The CIFAR-10 file {path} cannot be read as a batch of the python "
        f"version; found: {what}. The file was left as it is. Every batch is "
        f"in the official archive {ARCHIVE_NAME} ({CIFAR10_URL}); to use a "
        "fresh copy, unpack it into another folder and pass that folder as "
        "data_home."
    )


def _get(batch, key):
    for k in (key.encode("ascii"), key):
        if k in batch:
            return batch[k]
    return None


def _read_batch(path):
    """Return ``(data, labels)`` of one batch file, validated."""
    try:
        with open(path, "rb") as f:
            batch = _BatchUnpickler(f, encoding="bytes").load()
    except OSError:  # unreadable file (permissions, I/O): the OS message says
        raise
    except Exception as exc:  # truncated, garbage, foreign pickle...
        raise _corrupt(path, f"{type(exc).__name__}: {exc}") from exc
    if not isinstance(batch, dict):
        raise _corrupt(path, f"expected a dict, found {type(batch).__name__}")
    data = _get(batch, "data")
    labels = _get(batch, "labels")
    if data is None or labels is None:
        raise _corrupt(path, "the keys b'data' and b'labels' are missing")
    if (
        not isinstance(data, np.ndarray)
        or data.dtype != np.uint8
        or data.ndim != 2
        or data.shape[1] != _N_FEATURES
    ):
        desc = (
            f"{data.dtype} array of shape {data.shape}"
            if isinstance(data, np.ndarray)
            else type(data).__name__
        )
        raise _corrupt(
            path, f"b'data' must be a uint8 array of shape (n, 3072), found {desc}"
        )
    try:
        labels = np.asarray(labels)
    except Exception as exc:  # ragged or odd objects
        raise _corrupt(path, f"unreadable b'labels' ({exc})") from exc
    if (
        labels.ndim != 1
        or labels.shape[0] != data.shape[0]
        or (labels.size and labels.dtype.kind not in "iu")
    ):
        raise _corrupt(
            path,
            f"b'labels' must be {data.shape[0]} integers, found an array of "
            f"shape {labels.shape} and dtype {labels.dtype}",
        )
    labels = labels.astype(np.int64, copy=False)
    if labels.size and (labels.min() < 0 or labels.max() >= len(CLASS_NAMES)):
        raise _corrupt(path, "b'labels' must lie in 0..9")
    return data, labels


def _check_classes(classes):
    """Return the selected original labels as an int array (or None for all)."""
    if classes is None:
        return None
    if isinstance(classes, (str, Integral)):
        classes = [classes]
    try:
        classes = list(classes)
    except TypeError:
        raise TypeError(
            "classes must be a list of class names or integers in 0..9, got "
            f"{classes!r}"
        ) from None
    if not classes:
        raise ValueError("classes must name at least one class, got an empty list")
    selected = []
    for c in classes:
        if isinstance(c, str):
            if c not in CLASS_NAMES:
                raise ValueError(
                    f"Unknown CIFAR-10 class name {c!r}; the classes are "
                    f"{', '.join(CLASS_NAMES)} (or their indices 0..9)."
                )
            selected.append(CLASS_NAMES.index(c))
        elif isinstance(c, Integral) and not isinstance(c, (bool, np.bool_)):
            if not 0 <= c < len(CLASS_NAMES):
                raise ValueError(
                    f"CIFAR-10 class index {c} is out of range; indices are 0..9."
                )
            selected.append(int(c))
        else:
            raise TypeError(
                "classes must be class names (str) or indices (int), got "
                f"{c!r} of type {type(c).__name__}"
            )
    if len(set(selected)) != len(selected):
        raise ValueError(f"classes contains a class twice: {classes!r}")
    return np.asarray(selected, dtype=np.int64)


def _check_retries(n_retries, delay):
    if isinstance(n_retries, (bool, np.bool_)) or not isinstance(n_retries, Integral):
        raise TypeError(f"n_retries must be an integer >= 0, got {n_retries!r}")
    if n_retries < 0:
        raise ValueError(f"n_retries must be an integer >= 0, got {n_retries}")
    if isinstance(delay, (bool, np.bool_)) or not isinstance(delay, Real):
        raise TypeError(f"delay must be a number of seconds >= 0, got {delay!r}")
    if not (np.isfinite(delay) and delay >= 0):
        raise ValueError(f"delay must be a finite number of seconds >= 0, got {delay}")
    return int(n_retries), float(delay)


def _assemble(batches, selected):
    """Build channels-last images from planar batches, keeping ``selected``."""
    if selected is None:
        remap = np.arange(len(CLASS_NAMES), dtype=np.int64)
    else:
        remap = np.full(len(CLASS_NAMES), -1, dtype=np.int64)
        remap[selected] = np.arange(len(selected))
    masks, targets = [], []
    for _, labels in batches:
        new = remap[labels]
        if selected is None:
            masks.append(None)
            targets.append(new)
        else:
            keep = new >= 0
            masks.append(keep)
            targets.append(new[keep])
    n = sum(len(t) for t in targets)
    images = np.empty((n, _SIDE, _SIDE, _N_CHANNELS), dtype=np.uint8)
    plane = _SIDE * _SIDE
    pos = 0
    for (data, _), keep in zip(batches, masks):
        if keep is not None:
            data = data[keep]
        k = data.shape[0]
        out = images[pos : pos + k]
        # one strided copy per colour plane: faster than a 4-d transpose
        for c in range(_N_CHANNELS):
            out[..., c] = data[:, c * plane : (c + 1) * plane].reshape(k, _SIDE, _SIDE)
        pos += k
    target = np.concatenate(targets) if targets else np.empty(0, dtype=np.int64)
    sizes = [len(t) for t in targets]
    return images, target, sizes


# --------------------------------------------------------------------------
# downloading


def _size(n):
    return f"{n / 1e6:.1f} MB" if n >= 1e5 else f"{n / 1e3:.1f} kB"


class _Progress:
    """Minimal download progress on stderr.

    On a terminal a single line is rewritten (every percent); otherwise (logs,
    CI) one line is printed every 10 %.
    """

    def __init__(self, total, stream=None):
        self.stream = sys.stderr if stream is None else stream
        try:
            self.tty = self.stream.isatty()
        except (AttributeError, ValueError):
            self.tty = False
        self.total = total
        self.done = 0
        self.shown = -1

    def _write(self, text):
        with contextlib.suppress(Exception):
            self.stream.write(text)
            self.stream.flush()

    def update(self, n):
        self.done += n
        if self.total:
            step = 1 if self.tty else 10
            level = min(100, 100 * self.done // self.total) // step
            if level > self.shown:
                self.shown = level
                msg = (
                    f"Downloading CIFAR-10: {level * step:3d}% "
                    f"({_size(self.done)} of {_size(self.total)})"
                )
                self._write("\r" + msg if self.tty else msg + "\n")
        elif self.tty:
            self._write(f"\rDownloading CIFAR-10: {_size(self.done)}")

    def close(self):
        if self.tty:
            self._write("\n")
        elif not self.total:
            self._write(f"Downloading CIFAR-10: {_size(self.done)}\n")


def _content_length(response):
    headers = getattr(response, "headers", None)
    value = None
    if headers is not None:
        with contextlib.suppress(Exception):
            value = headers.get("Content-Length")
    try:
        value = int(value)
    except (TypeError, ValueError):
        return None
    return value if value > 0 else None


def _file_md5(path):
    md5 = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            md5.update(chunk)
    return md5.hexdigest()


def _download(url, target, md5_expected):
    """Download ``url`` to ``target`` through a temporary file.

    The data goes to a hidden ``*.part`` file next to ``target``; it is
    renamed to ``target`` only once complete and its MD5 verified. On any
    failure (network error, interruption, checksum mismatch) the temporary
    file is removed and the exception propagates.
    """
    target = Path(target)
    fd, tmp = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=".part"
    )
    try:
        md5 = hashlib.md5()
        with os.fdopen(fd, "wb") as out:
            response = _urlopen(url, timeout=_TIMEOUT)
            with contextlib.closing(response):
                total = _content_length(response)
                progress = _Progress(total)
                while True:
                    chunk = response.read(_CHUNK)
                    if not chunk:
                        break
                    out.write(chunk)
                    md5.update(chunk)
                    progress.update(len(chunk))
                progress.close()
        if total is not None and progress.done != total:
            raise _IncompleteDownload(
                f"The download of {url} stopped after {progress.done} of "
                f"{total} bytes; nothing was kept."
            )
        digest = md5.hexdigest()
        if digest != md5_expected:
            raise CorruptDatasetError(
                f"Checksum mismatch for {url}: MD5 {digest}, expected "
                f"{md5_expected}. The download is corrupt or the file changed; "
                f"it was discarded and nothing was written to {target.parent}/."
            )
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return target


def _safe_members(tar, dest):
    """Members of the archive under ``cifar-10-batches-py/``, checked."""
    dest = os.path.realpath(dest)
    members = []
    for m in tar.getmembers():
        name = m.name.lstrip("./") if m.name.startswith("./") else m.name
        if name != FOLDER_NAME and not name.startswith(FOLDER_NAME + "/"):
            continue  # only the batches folder is wanted
        if not (m.isfile() or m.isdir()):
            raise CorruptDatasetError(
                f"Refusing to extract {m.name!r}: CIFAR-10 holds only regular "
                "files and folders."
            )
        path = os.path.realpath(os.path.join(dest, m.name))
        if os.path.isabs(m.name) or os.path.commonpath([dest, path]) != dest:
            raise CorruptDatasetError(
                f"Refusing to extract {m.name!r}: it points outside {dest}."
            )
        members.append(m)
    return members


def _extract(archive, data_home):
    """Unpack the batches folder of ``archive`` into ``data_home``.

    Extraction goes to a temporary folder which is renamed into place only
    once every expected file is there.
    """
    archive = Path(archive)
    tmpdir = tempfile.mkdtemp(dir=data_home, prefix=".cifar-10-extract-")
    try:
        try:
            with tarfile.open(archive, "r:gz") as tar:
                members = _safe_members(tar, tmpdir)
                if hasattr(tarfile, "data_filter"):
                    tar.extractall(tmpdir, members=members, filter="data")
                else:  # pragma: no cover - Python without extraction filters
                    tar.extractall(tmpdir, members=members)
        except CorruptDatasetError:
            raise
        except Exception as exc:  # tarfile.TarError, EOFError, zlib.error...
            raise CorruptDatasetError(
                f"Could not unpack {archive}: {type(exc).__name__}: {exc}"
            ) from exc
        src = Path(tmpdir) / FOLDER_NAME
        missing = [f for f in _ARCHIVE_FILES if not (src / f).is_file()]
        if missing:
            raise CorruptDatasetError(
                f"The archive {archive} lacks {FOLDER_NAME}/"
                f"{{{', '.join(missing)}}}; it is not the CIFAR-10 python version."
            )
        dest = Path(data_home) / FOLDER_NAME
        try:
            os.rename(src, dest)
        except OSError:
            if not all((dest / f).is_file() for f in _ARCHIVE_FILES):
                raise
            # another process unpacked the same archive first: use its folder
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    return dest


class _IncompleteDownload(DatasetNotFoundError):
    """The server sent fewer bytes than it announced (retried)."""


def _download_with_retries(url, target, md5_expected, n_retries, delay):
    """:func:`_download`, retried ``n_retries`` times on network errors.

    As scikit-learn's fetchers: a ``URLError`` or a timeout (here also a
    dropped connection or an incomplete transfer) is retried after ``delay``
    seconds, with a warning; a checksum mismatch is not.
    """
    attempt = 0
    while True:
        try:
            return _download(url, target, md5_expected)
        except (URLError, TimeoutError, ConnectionError, _IncompleteDownload) as exc:
            if attempt >= n_retries:
                raise
            attempt += 1
            reason = getattr(exc, "reason", None) or exc
            warnings.warn(
                f"Retrying the download of {url} in {delay:g} s (retry {attempt} "
                f"of {n_retries}) after {type(exc).__name__}: {reason}",
                UserWarning,
                stacklevel=2,
            )
            _sleep(delay)


@contextlib.contextmanager
def _fetch_lock(data_home):
    """Hold an exclusive lock on the folder ``data_home`` while fetching.

    A second process (or thread) that fetches into the same folder waits for
    the first and then finds the unpacked folder. The lock is an advisory
    ``flock`` on the folder itself (no lock file is left behind), released
    when the process ends, even if it is killed. Where ``flock`` is not
    available the fetch goes on without it; :func:`_extract` then still
    accepts a folder that another process unpacked first.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        fcntl = None
    fd = None
    if fcntl is not None:
        with contextlib.suppress(OSError):
            fd = os.open(data_home, os.O_RDONLY)
    try:
        if fd is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                print(
                    f"Waiting for another process that is fetching CIFAR-10 into "
                    f"{data_home} ...",
                    file=sys.stderr,
                    flush=True,
                )
                fcntl.flock(fd, fcntl.LOCK_EX)
            except OSError:  # pragma: no cover - a file system without flock
                pass
        yield
    finally:
        if fd is not None:
            os.close(fd)  # releases the lock


def _fetch(data_home, n_retries, delay):
    """Download (unless a verified archive is there), unpack into ``data_home``.

    Files are never lost: an archive found in ``data_home`` is used and left
    there; a downloaded archive is kept when unpacking fails or is
    interrupted (it passed its checksum, so the next call reuses it) and
    removed only once its folder is in place.
    """
    archive = data_home / ARCHIVE_NAME
    try:
        data_home.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a file in the way, read-only disk...: not the network
        raise DatasetNotFoundError(
            f"CIFAR-10 was not found in {_where(data_home)} and the folder "
            f"{data_home} cannot be created to download it into "
            f"({type(exc).__name__}: {exc.strerror or exc}); nothing was downloaded. "
            f"{_HOWTO}"
        ) from exc
    with _fetch_lock(data_home):
        # another process may have unpacked it while this one waited
        folder = _find_folder(data_home)
        if folder is not None:
            return folder
        downloaded = False
        if archive.exists() or archive.is_symlink():
            if not archive.is_file():
                raise CorruptDatasetError(
                    f"{archive} exists but is not a readable file; CIFAR-10 would "
                    "be downloaded to that name. Move it away; nothing was "
                    "downloaded or removed."
                )
            digest = _file_md5(archive)
            if digest != CIFAR10_MD5:
                raise CorruptDatasetError(
                    f"{archive} is not the official CIFAR-10 archive (MD5 {digest}, "
                    f"expected {CIFAR10_MD5}); it may be incomplete. It was left "
                    "untouched and nothing was downloaded: move it away (or "
                    f"replace it with the official file from {CIFAR10_URL}) and "
                    "fetch CIFAR-10 again."
                )
        else:
            try:
                _download_with_retries(CIFAR10_URL, archive, CIFAR10_MD5, n_retries, delay)
            except (DatasetNotFoundError, CorruptDatasetError) as exc:
                where = _where(data_home)
                raise type(exc)(
                    f"{exc} CIFAR-10 is expected in {where}. {_HOWTO}"
                ) from exc
            except (URLError, OSError) as exc:  # offline, timeout, refused, disk...
                reason = getattr(exc, "reason", None) or exc
                tries = f" ({n_retries + 1} attempts)" if n_retries else ""
                raise DatasetNotFoundError(
                    f"CIFAR-10 was not found in {_where(data_home)} and downloading "
                    f"it from {CIFAR10_URL} failed{tries} ({type(exc).__name__}: "
                    f"{reason}); nothing was written. Check the connection, or "
                    f"{_HOWTO[0].lower()}{_HOWTO[1:]}"
                ) from exc
            downloaded = True
        try:
            folder = _extract(archive, data_home)
        except (CorruptDatasetError, OSError) as exc:
            folder = _find_folder(data_home)
            if folder is not None:  # another process (without a lock) was first
                return folder
            kept = (
                f" The archive {archive} passed its checksum and was kept; the "
                "next call unpacks it without downloading."
                if archive.is_file()
                else ""
            )
            if isinstance(exc, CorruptDatasetError):
                raise CorruptDatasetError(f"{exc}{kept}") from exc
            raise CorruptDatasetError(
                f"Could not unpack {archive} into {data_home}: "
                f"{type(exc).__name__}: {exc}.{kept}"
            ) from exc
        if downloaded:
            with contextlib.suppress(OSError):
                archive.unlink()
    return folder


# --------------------------------------------------------------------------
# public API


def fetch_cifar10(
    *,
    data_home=None,
    subset="train",
    classes=None,
    download_if_missing=True,
    return_X_y=False,
    n_retries=3,
    delay=1.0,
):
    """Load the CIFAR-10 dataset (classification), downloading it if missing.

    =================   ==============================
    Classes                                         10
    Samples total                               60,000
    Samples per class    6,000 (5,000 train, 1,000 test)
    Dimensionality          3072 (32 x 32 x 3), uint8
    =================   ==============================

    The batches are looked for in ``<data_home>/cifar-10-batches-py/`` and
    then ``<data_home>/cifar10/cifar-10-batches-py/``. When neither exists
    and ``download_if_missing`` is true, the official archive is downloaded
    (MD5-checked, through a temporary file renamed into place only when
    complete) and unpacked into ``<data_home>/cifar-10-batches-py/``.

    Nothing is ever lost: an archive ``cifar-10-python.tar.gz`` that is
    already in ``data_home`` (placed there by hand, or kept by an earlier
    call) is used if it passes the checksum and is left where it is; a
    downloaded archive is kept if unpacking fails or is interrupted, and
    removed only once the folder is in place. Processes that fetch into the
    same ``data_home`` at once take turns: the second waits and then reads
    the folder the first one unpacked.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder holding the data. By default the environment variable
        ``SKLEARN_GABOR_DATA``, else :func:`sklearn.datasets.get_data_home`.

    subset : {"train", "test", "all"}, default="train"
        ``"train"``: the 50,000 images of ``data_batch_1`` ... ``data_batch_5``;
        ``"test"``: the 10,000 images of ``test_batch``; ``"all"``: both, the
        training images first.

    classes : sequence of str or int, default=None
        Keep only these classes (names such as ``"cat"`` or indices 0..9) and
        relabel them ``0..k-1`` in the order given. ``None`` keeps all ten
        with their original labels.

    download_if_missing : bool, default=True
        If False, raise :class:`DatasetNotFoundError` instead of downloading
        when the data is not on disk.

    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    n_retries : int, default=3
        Number of retries when the download fails on a network error
        (connection refused or reset, timeout, incomplete transfer), as in
        scikit-learn's fetchers. A checksum mismatch is not retried.

    delay : float, default=1.0
        Number of seconds between retries.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with attributes:

        data : ndarray of shape (n_samples, 3072), dtype uint8
            Flattened images in channels-last (H, W, C) order; a view of
            ``images``.
        images : ndarray of shape (n_samples, 32, 32, 3), dtype uint8
            The images, RGB, channels-last.
        target : ndarray of shape (n_samples,), dtype int64
            The labels.
        target_names : ndarray of str
            Class names, in label order.
        batch : ndarray of shape (n_samples,), dtype str
            The file each image comes from (``"data_batch_1"`` ...
            ``"test_batch"``), for the usual split: train on
            ``data_batch_1``-``4``, validate on ``data_batch_5``.
        DESCR : str
            Description of the dataset.

    (data, target) : tuple if ``return_X_y`` is True

    Raises
    ------
    DatasetNotFoundError
        The data is not on disk and could not be downloaded (offline,
        ``download_if_missing=False``), or a needed batch such as
        ``test_batch`` is missing.
    CorruptDatasetError
        A batch is truncated or corrupt, or a download fails its checksum.
    ValueError
        Unknown ``subset`` or class, an empty ``data_home``, or a negative
        ``n_retries`` or ``delay``.

    Examples
    --------
    >>> from sklearn_gabor.datasets import fetch_cifar10
    >>> cifar = fetch_cifar10(subset="train")  # doctest: +SKIP
    >>> cifar.images.shape, cifar.data.shape  # doctest: +SKIP
    ((50000, 32, 32, 3), (50000, 3072))
    >>> X, y = fetch_cifar10(classes=["cat", "dog"], return_X_y=True)  # doctest: +SKIP
    >>> X.shape  # doctest: +SKIP
    (10000, 3072)
    """
    if subset not in _SUBSETS:
        raise ValueError(
            f"subset must be one of 'train', 'test' or 'all', got {subset!r}"
        )
    selected = _check_classes(classes)
    n_retries, delay = _check_retries(n_retries, delay)
    data_home = get_gabor_data_home(data_home)
    _check_no_dangling_link(data_home)
    if data_home.exists() and not data_home.is_dir():
        raise DatasetNotFoundError(
            f"data_home {data_home} is a file, not a folder. {_HOWTO}"
        )
    for candidate in _candidate_folders(data_home):
        _check_no_dangling_link(candidate)
    blocker = data_home / FOLDER_NAME
    if blocker.exists() and not blocker.is_dir():
        raise CorruptDatasetError(
            f"{blocker} is a file, but CIFAR-10 needs a folder there (the "
            f"unpacked {FOLDER_NAME}/ of {ARCHIVE_NAME}). Move or rename the file "
            "and fetch CIFAR-10 again."
        )

    folder = _find_folder(data_home)
    if folder is None:
        if not download_if_missing:
            raise DatasetNotFoundError(
                f"CIFAR-10 was not found: no folder {_where(data_home)} "
                f"(download_if_missing=False, so nothing was downloaded). "
                f"{_HOWTO}"
            )
        folder = _fetch(data_home, n_retries, delay)

    files = _SUBSETS[subset]
    missing = [name for name in files if not (folder / name).is_file()]
    if missing:
        hint = (
            " The copy there holds only the training batches; the test set "
            "may have been left out on purpose (use subset='train')."
            if "test_batch" in missing and len(missing) == 1
            else ""
        )
        raise DatasetNotFoundError(
            f"CIFAR-10 subset {subset!r} needs {', '.join(missing)}, which "
            f"{'is' if len(missing) == 1 else 'are'} missing from {folder}/ "
            f"(expected there: {', '.join(files)}).{hint} {_HOWTO}"
        )

    batches = [_read_batch(folder / name) for name in files]
    images, target, sizes = _assemble(batches, selected)
    del batches
    batch = np.repeat(np.asarray(files), sizes)
    data = images.reshape(images.shape[0], _N_FEATURES)  # a view

    if return_X_y:
        return data, target
    names = CLASS_NAMES if selected is None else [CLASS_NAMES[i] for i in selected]
    return Bunch(
        data=data,
        images=images,
        target=target,
        target_names=np.asarray(names),
        batch=batch,
        DESCR=DESCR,
    )


def load_cats_vs_dogs(
    *,
    data_home=None,
    subset="train",
    download_if_missing=True,
    return_X_y=False,
    n_retries=3,
    delay=1.0,
):
    """Load the cat and dog images of CIFAR-10 as a binary problem.

    The same as ``fetch_cifar10(classes=("cat", "dog"), ...)``: cats are
    labelled 0 and dogs 1 (so a one-hot encoding gives cat = (1, 0) and
    dog = (0, 1)). 10,000 training images (``subset="train"``, 5,000 per
    class) and 2,000 test images.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder holding the data; see :func:`fetch_cifar10`.

    subset : {"train", "test", "all"}, default="train"
        Which batches to read; see :func:`fetch_cifar10`.

    download_if_missing : bool, default=True
        If False, raise :class:`DatasetNotFoundError` instead of downloading
        when the data is not on disk.

    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    n_retries : int, default=3
        Number of retries of the download on a network error.

    delay : float, default=1.0
        Number of seconds between retries.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch` or tuple
        As :func:`fetch_cifar10`, with ``target_names`` ``['cat', 'dog']``.

    Examples
    --------
    >>> from sklearn_gabor.datasets import load_cats_vs_dogs
    >>> cats_dogs = load_cats_vs_dogs()  # doctest: +SKIP
    >>> cats_dogs.target_names  # doctest: +SKIP
    array(['cat', 'dog'], dtype='<U3')
    """
    return fetch_cifar10(
        data_home=data_home,
        subset=subset,
        classes=("cat", "dog"),
        download_if_missing=download_if_missing,
        return_X_y=return_X_y,
        n_retries=n_retries,
        delay=delay,
    )
