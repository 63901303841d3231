"""Datasets for sklearn-gabor: the CIFAR-10 loader and synthetic gratings.

* :func:`fetch_cifar10` loads CIFAR-10 from the official "python version"
  files (``cifar-10-batches-py/``), downloading the archive when missing.
* :func:`load_cats_vs_dogs` is its cat (0) versus dog (1) subset.
* :func:`make_gratings` makes oriented sine gratings, a tiny offline image
  dataset for tests and examples.

The data folder is the ``data_home`` argument, else the environment variable
``SKLEARN_GABOR_DATA``, else :func:`sklearn.datasets.get_data_home`
(see :func:`get_gabor_data_home`).
"""

from ._base import CorruptDatasetError, DatasetNotFoundError, get_gabor_data_home
from ._cifar import fetch_cifar10, load_cats_vs_dogs
from ._synthetic import make_gratings

__all__ = [
    "fetch_cifar10",
    "load_cats_vs_dogs",
    "make_gratings",
    "get_gabor_data_home",
    "DatasetNotFoundError",
    "CorruptDatasetError",
]
