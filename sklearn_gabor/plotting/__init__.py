"""Plotting utilities following scikit-learn's Display convention.

Each Display has a ``from_estimator`` class method, a ``plot(ax=...)``
method and the fitted attributes ``figure_`` and ``ax_``:

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
