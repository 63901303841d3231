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

    The message names the offending file and how to recover (delete it and
    fetch again).
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
        Explicit folder; ``~`` is expanded. It is not created here.

    Returns
    -------
    data_home : pathlib.Path
        The resolved folder (not necessarily existing, except for the
        scikit-learn default, which scikit-learn creates).
    """
    if data_home is None:
        data_home = os.environ.get(DATA_ENV_VAR) or None
    if data_home is None:
        data_home = get_data_home()
    return Path(os.fspath(data_home)).expanduser()
