"""Version stamp on pickles of sklearn-gabor estimators.

scikit-learn's :class:`~sklearn.base.BaseEstimator` records its own version in
the pickled state (``_sklearn_version``) and warns
:class:`~sklearn.exceptions.InconsistentVersionWarning` when an estimator is
loaded by another scikit-learn version. :class:`_VersionedPickleMixin` does the
same for the sklearn-gabor version, so that a model pickled by sklearn-gabor
0.1.0 and loaded by 0.2.0 says so instead of silently computing with changed
defaults or internals.
"""

import warnings

from sklearn.exceptions import InconsistentVersionWarning

__all__ = ["SklearnGaborVersionWarning"]

_STATE_KEY = "_sklearn_gabor_version"
# scikit-learn stamps its own version only on estimators whose module starts
# with "sklearn.", which excludes this package: record it here as well.
_SKLEARN_KEY = "_sklearn_gabor_sklearn_version"
_UNKNOWN = "unknown (the pickle predates version stamps)"


class SklearnGaborVersionWarning(InconsistentVersionWarning):
    """An estimator was unpickled by another sklearn-gabor version than pickled it.

    A subclass of :class:`sklearn.exceptions.InconsistentVersionWarning` (so
    ``warnings.simplefilter("error", InconsistentVersionWarning)`` catches
    both); ``estimator_name``, ``current_sklearn_version`` and
    ``original_sklearn_version`` hold the estimator's class name and the
    sklearn-gabor versions that load and that wrote the pickle.
    """

    def __str__(self):
        return (
            f"Trying to unpickle estimator {self.estimator_name} from sklearn-gabor "
            f"version {self.original_sklearn_version} when using version "
            f"{self.current_sklearn_version}. This might lead to breaking code or "
            "invalid results. Use at your own risk: refit the estimator with this "
            "version, or install sklearn-gabor "
            f"{self.original_sklearn_version} to use the pickle."
        )


def _current_version():
    from .. import __version__

    return __version__


def _current_sklearn_version():
    import sklearn

    return sklearn.__version__


class _VersionedPickleMixin:
    """Adds the sklearn-gabor and scikit-learn versions to the pickled state.

    On unpickling, a different sklearn-gabor version warns
    :class:`SklearnGaborVersionWarning`, a different scikit-learn version
    :class:`~sklearn.exceptions.InconsistentVersionWarning`, as scikit-learn's
    own estimators do.

    Put it to the left of :class:`~sklearn.base.BaseEstimator` in the bases,
    so that its ``__getstate__``/``__setstate__`` wrap BaseEstimator's.
    """

    def __getstate__(self):
        state = super().__getstate__()
        if state is self.__dict__:  # never stamp the live instance
            state = dict(state)
        state[_STATE_KEY] = _current_version()
        state[_SKLEARN_KEY] = _current_sklearn_version()
        return state

    def __setstate__(self, state):
        state = dict(state)
        pickled = state.pop(_STATE_KEY, _UNKNOWN)
        current = _current_version()
        if pickled != current:
            warnings.warn(
                SklearnGaborVersionWarning(
                    estimator_name=type(self).__name__,
                    current_sklearn_version=current,
                    original_sklearn_version=pickled,
                ),
            )
        pickled_sk = state.pop(_SKLEARN_KEY, None)
        current_sk = _current_sklearn_version()
        if pickled_sk is not None and pickled_sk != current_sk:
            # the plain scikit-learn warning, as BaseEstimator gives its own
            warnings.warn(
                InconsistentVersionWarning(
                    estimator_name=type(self).__name__,
                    current_sklearn_version=current_sk,
                    original_sklearn_version=pickled_sk,
                ),
            )
        super().__setstate__(state)
