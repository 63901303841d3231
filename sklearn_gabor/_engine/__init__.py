"""The filtering engine of sklearn-gabor: images -> complex Gabor responses ->
pooled features. NumPy, SciPy and joblib only (no scikit-learn), so that it can
be used, tested and replaced apart from the estimators.

* :mod:`._support`: boundary extensions: the periodic FFT buffer of an image
  axis (:class:`AxisLayout`) and kernels cut to what an image can use;
* :mod:`._plan`: how responses are computed (:class:`FilterPlan`, the seam
  for another filtering algorithm);
* :mod:`._pool`: cell statistics; :mod:`._flip`: the mirror map of a bank;
* :mod:`._layout`: the order of the feature columns (:class:`FeatureLayout`);
* :mod:`._cascade`: second-order paths; :mod:`._images`: rows to images;
* :mod:`._features`: the fitted extractor (:class:`GaborFeatures`);
* :mod:`._responses`: :func:`gabor_responses`, the public middle level.
"""

from ._features import MAX_BANK_BYTES, GaborFeatures, bank_nbytes, build_features, effective_threads
from ._flip import mirror_kernels
from ._layout import FeatureLayout, cascade_paths, kernel_labels
from ._plan import FilterPlan, build_plan
from ._pool import STATS, Pooling, cell_bounds
from ._responses import gabor_responses
from ._support import MODES, AxisLayout, axis_layout, fold_kernel, folded_gabor_kernel

__all__ = [
    "MAX_BANK_BYTES",
    "MODES",
    "STATS",
    "AxisLayout",
    "FeatureLayout",
    "FilterPlan",
    "GaborFeatures",
    "Pooling",
    "axis_layout",
    "bank_nbytes",
    "build_features",
    "build_plan",
    "cascade_paths",
    "cell_bounds",
    "effective_threads",
    "fold_kernel",
    "folded_gabor_kernel",
    "gabor_responses",
    "kernel_labels",
    "mirror_kernels",
]
