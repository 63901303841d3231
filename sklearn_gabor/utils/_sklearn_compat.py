"""The one place where sklearn-gabor imports private scikit-learn API.

scikit-learn keeps these names stable for third-party estimators in practice
(``sklearn.utils._param_validation`` and ``sklearn.base._fit_context`` are what
its own estimators and ``scikit-learn-contrib/project-template`` use) but does
not promise it; importing them here only means that a scikit-learn release
that moves one needs a change in one file. CI runs the test suite on the
oldest scikit-learn that ``pyproject.toml`` allows (1.6) and on the newest.
"""

from sklearn.base import _fit_context
from sklearn.utils._param_validation import (
    Interval,
    InvalidParameterError,
    StrOptions,
)
from sklearn.utils.validation import _check_feature_names_in, _check_sample_weight

__all__ = [
    "Interval",
    "InvalidParameterError",
    "StrOptions",
    "_check_feature_names_in",
    "_check_sample_weight",
    "_fit_context",
]
