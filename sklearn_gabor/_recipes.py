"""The documented CIFAR-10 recipes as one public call."""

import numpy as np

from ._gabor import GaborTransformer
from ._patch_encoder import GaborPatchEncoder
from ._softmax import GDSoftmaxClassifier

__all__ = ["make_cifar10_pipeline"]

_COMMON = {
    "n_orientations": 8,
    "nonlinearity": "modulus",
    "mode": "wrap",
    "pool_grid": (4, 4),
    "pool_stats": ("mean",),
    "compression": "sqrt",
    "contrast_normalization": True,
    "color": "opponent",
}
#: the recipe's Gabor features: the first order of 4 frequencies and the
#: second order of the upper 3, in one transformer (the first-layer maps that
#: feed the cascade are computed once for both orders)
RECIPE_GABOR = [
    ("gabor", dict(_COMMON, frequencies=(0.05, 0.1, 0.2, 0.4), order=2,
                   cascade_frequencies=(0.1, 0.2, 0.4))),
]
#: the recipe's classifier: preconditioned gradient descent towards the optimum
#: (with the encoder's 20,272 features and 40,000 images, in its low-rank form)
RECIPE_SOFTMAX = {"solver": "pgd", "learning_rate": 1.0, "max_iter": 100, "tol": 1e-4}
#: L2 weight chosen on the validation batch, per number of classes
RECIPE_ALPHA = {2: 0.3, 10: 0.01}
#: the same on the kernel map's standardized coordinates
RECIPE_ALPHA_KERNEL = {2: 0.03, 10: 0.01}
#: features per image of the recipe, without and with the patch encoder
RECIPE_N_FEATURES = {False: 768 + 4608, True: 768 + 4608 + 14896}


def recipe_banks(n_jobs=-1, flip_invariant=True):
    """``(name, GaborTransformer)`` pairs of the recipe's Gabor features, for a FeatureUnion."""
    return [
        (name, GaborTransformer(image_shape=(32, 32, 3), flip_invariant=flip_invariant,
                                n_jobs=n_jobs, **params))
        for name, params in RECIPE_GABOR
    ]


def make_cifar10_pipeline(task="cifar10", *, encoder=True, kernel_map=False,
                          n_components=8000, n_jobs=-1, random_state=0):
    """The documented Gabor recipe for 32 x 32 colour images, as a Pipeline.

    ``FeatureUnion`` of fixed-filter feature extractors, then
    :class:`~sklearn.preprocessing.StandardScaler` and a linear
    :class:`~sklearn_gabor.GDSoftmaxClassifier`:

    * ``gabor``: :class:`~sklearn_gabor.GaborTransformer` on the opponent
      channels of the contrast-normalized image, 4 x 4 mean pooling, square
      root, averaged with the left-right mirror: the first order ``|I * g|``
      of 4 frequencies x 8 orientations (768 features), then the second order
      ``||I * g1| * g2|`` with ``f2 < f1`` of the upper 3 frequencies
      (``cascade_frequencies``, 4,608 features);
    * ``encoder`` (when ``encoder=True``): :class:`~sklearn_gabor.GaborPatchEncoder`
      with its defaults (1,862 colour Gabor atoms on whitened 6 x 6 patches,
      both polarities, 2 x 2 sum pooling), a square root, and averaged with
      the left-right mirror like the banks (14,896 features).

    With ``kernel_map=True`` the standardized features ``x`` (``d`` of them)
    go through a :class:`~sklearn.kernel_approximation.Nystroem` map of the
    Gaussian kernel ``k(x, x') = exp(-gamma ||x - x'||^2)`` with
    ``gamma = 1 / (4 d)`` (standardized features lie about ``1.8 d`` apart in
    squared distance, so that ``k`` is about 0.64 between typical images),
    standardized again, before the classifier. The classifier stays linear,
    in the ``n_components`` coordinates of the map; it trains on the same
    convex loss, and the map is fitted without labels (the kernel between
    ``n_components`` training images drawn at random).

    Parameters
    ----------
    task : {'cifar10', 'cats-vs-dogs'}, default='cifar10'
        Sets the classifier's L2 weight ``alpha`` (0.01 for the 10 classes,
        0.3 for the 2-class subset, 0.03 for it with ``kernel_map=True``;
        chosen on the validation batch).
    encoder : bool, default=True
        Include the patch encoder beside the Gabor features.
    kernel_map : bool, default=False
        Map the standardized features through a Nystroem approximation of
        the Gaussian kernel before the classifier (steps ``kernel_map`` and
        ``kernel_scale``). More accurate on CIFAR-10 and about twice the time
        (the user guide and the accuracy page give the figures).
    n_components : int, default=8000
        Training images that span the kernel map (with ``kernel_map=True``);
        with fewer training images than that, Nystroem warns and uses them
        all (the exact kernel on the training set).
    n_jobs : int, default=-1
        Threads of each feature extractor.
    random_state : int or None, default=0
        Seeds the encoder's whitening sample and the classifier.

    Returns
    -------
    pipeline : sklearn.pipeline.Pipeline
        Unfitted; ``fit`` takes ``(n, 3072)`` uint8 rows (32 x 32 x 3, channels last).

    Examples
    --------
    >>> from sklearn_gabor import make_cifar10_pipeline
    >>> pipe = make_cifar10_pipeline(encoder=False)
    >>> [name for name, _ in pipe.steps]
    ['features', 'scale', 'classify']
    >>> [name for name, _ in make_cifar10_pipeline(kernel_map=True).steps]
    ['features', 'scale', 'kernel_map', 'kernel_scale', 'classify']
    """
    from sklearn.kernel_approximation import Nystroem
    from sklearn.pipeline import FeatureUnion, Pipeline
    from sklearn.preprocessing import StandardScaler

    if task not in ("cifar10", "cats-vs-dogs"):
        raise ValueError(f"task must be 'cifar10' or 'cats-vs-dogs'; got {task!r}.")
    for name, value in (("encoder", encoder), ("kernel_map", kernel_map)):
        if not isinstance(value, (bool, np.bool_)):
            raise ValueError(f"{name} must be True or False; got {value!r}.")
    parts = recipe_banks(n_jobs=n_jobs)
    if encoder:
        parts.append(("encoder", GaborPatchEncoder(
            image_shape=(32, 32, 3), compression="sqrt", flip_invariant=True,
            n_jobs=n_jobs, random_state=random_state)))
    n_classes = 2 if task == "cats-vs-dogs" else 10
    alpha = (RECIPE_ALPHA_KERNEL if kernel_map else RECIPE_ALPHA)[n_classes]
    clf = GDSoftmaxClassifier(alpha=alpha, random_state=random_state, **RECIPE_SOFTMAX)
    steps = [("features", FeatureUnion(parts)), ("scale", StandardScaler())]
    if kernel_map:
        steps += [
            ("kernel_map", Nystroem(kernel="rbf", gamma=1.0 / (4 * RECIPE_N_FEATURES[encoder]),
                                    n_components=n_components, random_state=random_state)),
            ("kernel_scale", StandardScaler()),
        ]
    return Pipeline(steps + [("classify", clf)])
