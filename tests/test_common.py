"""scikit-learn's common estimator checks on every public estimator, with no expected failures."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_gabor.utils.discovery import all_estimators

from sklearn_gabor import GaborPatchEncoder, GDSoftmaxClassifier

ESTIMATORS = [cls() for _, cls in all_estimators()]
# the default is 'apgd'; the plain update and 'pgd' (no momentum) take other code paths
SOLVER_VARIANTS = [GDSoftmaxClassifier(solver="gd"), GDSoftmaxClassifier(solver="pgd")]
# the mirror-averaged encoder pools and fits its whitening differently
VARIANTS = SOLVER_VARIANTS + [GaborPatchEncoder(flip_invariant=True)]


def test_estimators_found():
    """The public estimators are discovered automatically."""
    names = {type(est).__name__ for est in ESTIMATORS}
    assert {"GaborTransformer", "GDSoftmaxClassifier", "GaborPatchEncoder"} <= names


@parametrize_with_checks(ESTIMATORS + VARIANTS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
