"""sklearn-gabor: Gabor filter-bank features and a gradient-descent softmax classifier.

The classic image-classification recipe as two scikit-learn estimators:

* :class:`GaborTransformer` turns images (rows of ``X``) into Gabor filter-bank
  features: complex responses to a bank over frequencies x orientations, a
  nonlinearity (modulus by default) and spatial pooling.
* :class:`GaborPatchEncoder` encodes every small colour patch on a fixed
  dictionary of colour Gabor atoms (after patch normalization and ZCA
  whitening fitted in ``fit``), soft-thresholds both polarities and sum-pools.
* :func:`gabor_kernel` / :func:`gabor_bank` build the kernels and
  :func:`gabor_responses` filters many images by many of them at once.
* :class:`GDSoftmaxClassifier` is the linear model ``o = W x + b`` with softmax
  probabilities, trained by gradient descent ``theta <- theta - eta grad L``
  (``eta`` is the ``learning_rate``) on the mean cross-entropy loss plus the
  L2 penalty ``alpha / 2 ||W||^2`` (``alpha`` is the L2 weight, not a step).
* :func:`make_cifar10_pipeline` is the documented recipe for 32 x 32 colour
  images in one call.
"""

from ._engine import gabor_responses
from ._gabor import GaborTransformer
from ._kernels import gabor_bank, gabor_kernel
from ._patch_encoder import GaborPatchEncoder
from ._recipes import make_cifar10_pipeline
from ._softmax import GDSoftmaxClassifier
from ._version import __version__

__all__ = [
    "GDSoftmaxClassifier",
    "GaborPatchEncoder",
    "GaborTransformer",
    "__version__",
    "gabor_bank",
    "gabor_kernel",
    "gabor_responses",
    "make_cifar10_pipeline",
]
