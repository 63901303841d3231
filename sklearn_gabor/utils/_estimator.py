"""What every sklearn-gabor estimator shares: pickle version stamps, the
documentation link of the HTML repr, and the refusal of array API dispatch."""

import sklearn

from .._version import __version__
from ._persistence import _VersionedPickleMixin

__all__ = ["DOCS_URL", "SklearnGaborMixin", "check_no_array_api_dispatch"]

DOCS_URL = "https://sklearn-gabor.readthedocs.io/en/latest/"


def _doc_link_params(estimator):
    return {"estimator_name": type(estimator).__name__}


class SklearnGaborMixin(_VersionedPickleMixin):
    """Base of the public estimators, to the left of ``BaseEstimator``.

    Besides the version stamps of :class:`_VersionedPickleMixin`, it points the
    "?" link of scikit-learn's HTML representation (in notebooks) at this
    package's API reference instead of scikit-learn's.
    """

    _doc_link_module = "sklearn_gabor"
    _doc_link_template = DOCS_URL + "generated/sklearn_gabor.{estimator_name}.html"
    _doc_link_url_param_generator = _doc_link_params


def check_no_array_api_dispatch(estimator):
    """Refuse ``sklearn.config_context(array_api_dispatch=True)`` with a clear error.

    The estimators compute with NumPy and :mod:`scipy.fft`; under array API
    dispatch scikit-learn's validation may hand them arrays of another library
    (CuPy, PyTorch), which would fail deep inside NumPy.
    """
    if sklearn.get_config().get("array_api_dispatch", False):
        raise ValueError(
            f"{type(estimator).__name__} does not support array API dispatch: it "
            "computes with NumPy and SciPy on the CPU. Call it outside "
            "sklearn.config_context(array_api_dispatch=True), with NumPy arrays "
            f"(sklearn-gabor {__version__})."
        )
