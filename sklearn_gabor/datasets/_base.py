"""Shared helpers of :mod:`sklearn_gabor.datasets`: data home and errors."""

import os
from pathlib import Path

from sklearn.datasets import get_data_home

#: Environment variable naming the folder that holds (or receives) the data.
DATA_ENV_VAR = "SKLEARN_GABOR_DATA"


class DatasetNotFoundError(FileNotFoundError):
    """A dataset (or one of its files) is not on disk and could not be fetched.

    Raised when ``download_if_missing=False`` and nothing is found, when a
    download fails (for example offline), or when a needed file such as
    ``test_batch`` is missing from an otherwise present copy. The message
    names the folders where the files are expected.
    """


class CorruptDatasetError(OSError):
    """A dataset file is on disk but unreadable, truncated or fails its checksum.

    The message names the file and what was found in it. The file itself is
    left as it is: sklearn-gabor never deletes data that it did not write.
    """


def get_gabor_data_home(data_home=None):
    """Return the folder where sklearn-gabor looks for (and stores) datasets.

    Resolution order: the ``data_home`` argument, then the environment
    variable ``SKLEARN_GABOR_DATA`` (when set and not empty), then
    :func:`sklearn.datasets.get_data_home` (itself ``SCIKIT_LEARN_DATA`` or
    ``~/scikit_learn_data``).

    Parameters
    ----------
    data_home : str or path-like, default=None
        Explicit folder; ``~`` is expanded. It is not created here. An empty
        string is refused (it would silently mean the current folder); pass
        ``"."`` for that.

    Returns
    -------
    data_home : pathlib.Path
        The resolved folder (not necessarily existing, except for the
        scikit-learn default, which scikit-learn creates).

    Raises
    ------
    ValueError
        ``data_home`` is an empty string.
    """
    if data_home is not None and os.fspath(data_home) in ("", b""):
        raise ValueError(
            "data_home is an empty string; pass the folder that holds the data "
            f"(\".\" for the current folder), or None for ${DATA_ENV_VAR} or "
            "scikit-learn's data home."
        )
    if data_home is None:
        data_home = os.environ.get(DATA_ENV_VAR) or None
    if data_home is None:
        data_home = get_data_home()
    return Path(os.fspath(data_home)).expanduser()
