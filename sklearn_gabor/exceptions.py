"""Exceptions raised by sklearn-gabor."""

__all__ = ["DivergenceError"]


class DivergenceError(ValueError):
    """Gradient descent diverged: the loss or the parameters became non-finite.

    Raised by :class:`~sklearn_gabor.GDSoftmaxClassifier` when the learning
    rate is too large for the data (with the 'constant' or 'invscaling'
    schedule). The message names ``learning_rate`` and the epoch. It is a
    :class:`ValueError`, so :class:`~sklearn.model_selection.GridSearchCV`
    records such a fit as failed (``error_score``) and goes on.
    """
