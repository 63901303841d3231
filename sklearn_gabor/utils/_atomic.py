"""All-or-nothing fitting: a failed ``fit`` leaves the estimator as it was."""

import functools

__all__ = ["restore_on_failure"]


def restore_on_failure(method):
    """Decorate ``fit``/``partial_fit`` so that an exception rolls back the estimator.

    scikit-learn's input validation sets ``n_features_in_`` and
    ``feature_names_in_`` before the rest of ``fit`` runs, so an error raised
    later (one class, a bad ``image_shape``, divergence...) would otherwise
    leave a previously fitted estimator half updated: its new
    ``n_features_in_`` no longer matches its old ``coef_`` or filter bank. The
    wrapper takes a shallow snapshot of the instance ``__dict__`` and puts it
    back when the method raises. This is enough because the fitting methods
    of this package only ever *rebind* attributes (to new arrays); they never
    modify fitted arrays in place.
    """

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        saved = dict(self.__dict__)
        try:
            return method(self, *args, **kwargs)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(saved)
            raise

    return wrapper
