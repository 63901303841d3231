"""Display of the training loss of a gradient-descent classifier per epoch."""

from numbers import Real

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._base import final_estimator, import_pyplot


def _default_label(estimator):
    """``name=value`` of the estimator's numeric learning rate, else None."""
    params = estimator.get_params() if hasattr(estimator, "get_params") else {}
    for name in ("learning_rate", "learning_rate_init"):
        value = params.get(name)
        if isinstance(value, Real) and not isinstance(value, bool):
            return f"{name}={value:g}"
    return None


class LossCurveDisplay:
    """Loss curve: the training loss after each epoch of gradient descent.

    It is recommended to create a display with :meth:`from_estimator`. To
    compare several fits (learning rates, solvers, schedules), pass the
    ``ax_`` of the first display as ``ax`` to the next ones: each call adds
    one line to the same Axes.

    Parameters
    ----------
    loss_curve : array-like of shape (n_epochs,)
        The loss per epoch, e.g. ``GDSoftmaxClassifier.loss_curve_``.
    label : str, default=None
        Legend label of the line.

    Attributes
    ----------
    figure_ : matplotlib Figure
        Figure holding the plot.
    ax_ : matplotlib Axes
        Axes of the plot.
    line_ : matplotlib Line2D
        The drawn curve.

    See Also
    --------
    sklearn_gabor.GDSoftmaxClassifier : records ``loss_curve_`` during fit.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_gabor import GDSoftmaxClassifier
    >>> from sklearn_gabor.plotting import LossCurveDisplay
    >>> X, y = load_digits(return_X_y=True)
    >>> slow = GDSoftmaxClassifier(learning_rate=0.01, max_iter=30).fit(X / 16, y)
    >>> fast = GDSoftmaxClassifier(learning_rate=1.0, max_iter=30).fit(X / 16, y)
    >>> disp = LossCurveDisplay.from_estimator(slow, label="0.01")  # doctest: +SKIP
    >>> LossCurveDisplay.from_estimator(fast, label="1.0", ax=disp.ax_)  # doctest: +SKIP
    """

    def __init__(self, loss_curve, *, label=None):
        self.loss_curve = loss_curve
        self.label = label

    @classmethod
    def from_estimator(cls, estimator, *, label=None, log_scale=True, ax=None, **kwargs):
        """Plot ``loss_curve_`` of a fitted estimator.

        Parameters
        ----------
        estimator : estimator or Pipeline
            A fitted estimator with ``loss_curve_`` (such as
            :class:`~sklearn_gabor.GDSoftmaxClassifier` or
            :class:`~sklearn.neural_network.MLPClassifier`), or a pipeline
            ending with one.
        label : str, default=None
            Legend label; ``None`` uses ``learning_rate=<value>`` when the
            estimator's ``learning_rate`` is a number, else
            ``learning_rate_init=<value>`` (as for
            :class:`~sklearn.neural_network.MLPClassifier`, whose
            ``learning_rate`` names a schedule), else no label.
        log_scale : bool, default=True
            Use a logarithmic loss axis.
        ax : matplotlib Axes, default=None
            Axes to draw into; ``None`` creates a figure.
        **kwargs : dict
            Passed to :meth:`matplotlib.axes.Axes.plot`.

        Returns
        -------
        display : LossCurveDisplay
            The display, with ``figure_`` and ``ax_`` set.
        """
        est = final_estimator(estimator)
        check_is_fitted(est, "loss_curve_")
        if label is None:
            label = _default_label(est)
        disp = cls(est.loss_curve_, label=label)
        return disp.plot(log_scale=log_scale, ax=ax, **kwargs)

    def plot(self, *, log_scale=True, ax=None, **kwargs):
        """Draw the curve.

        Parameters
        ----------
        log_scale : bool, default=True
            Use a logarithmic loss axis.
        ax : matplotlib Axes, default=None
            Axes to draw into; ``None`` creates a figure.
        **kwargs : dict
            Passed to :meth:`matplotlib.axes.Axes.plot`.

        Returns
        -------
        display : LossCurveDisplay
            This object, with ``figure_``, ``ax_`` and ``line_`` set.
        """
        plt = import_pyplot("LossCurveDisplay.plot")
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        curve = np.asarray(self.loss_curve, dtype=float)
        epochs = np.arange(1, curve.size + 1)
        (self.line_,) = ax.plot(epochs, curve, label=self.label, **kwargs)
        if log_scale and np.all(curve[np.isfinite(curve)] > 0):
            ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_ylabel("training loss")
        if self.label is not None:
            ax.legend()
        self.figure_ = ax.figure
        self.ax_ = ax
        return self
