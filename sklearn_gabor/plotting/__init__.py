"""Plotting utilities following scikit-learn's Display convention.

Each Display has a ``from_estimator`` class method, a ``plot(ax=...)``
method and the attribute ``figure_``; as in scikit-learn, a Display with one
Axes keeps it in ``ax_`` and one with a grid of panels keeps the array in
``axes_``:

* :class:`FilterBankDisplay`: the kernels of a fitted
  :class:`~sklearn_gabor.GaborTransformer`;
* :class:`TemplatesDisplay`: the rows of a linear classifier's ``coef_``
  reshaped to images (class templates);
* :class:`LossCurveDisplay`: ``loss_curve_`` of a gradient-descent fit.

matplotlib is an optional dependency (``pip install sklearn-gabor[plot]``),
imported only when something is drawn.
"""

from ._filter_bank import FilterBankDisplay
from ._loss_curve import LossCurveDisplay
from ._templates import TemplatesDisplay

__all__ = ["FilterBankDisplay", "LossCurveDisplay", "TemplatesDisplay"]
