"""
=================================================
Solvers and learning-rate schedules compared
=================================================

:class:`~sklearn_gabor.GDSoftmaxClassifier` minimizes the same convex loss,
mean cross-entropy plus :math:`\\frac{\\alpha}{2}\\lVert W\\rVert^2`, with five
solvers: full-batch gradient descent (``'gd'``, one update per epoch), the
same preconditioned by a bound on the Hessian (``'pgd'``, one update per
epoch), that with Nesterov's extrapolation (``'apgd'``), mini-batch SGD with momentum (``'sgd'``) and Adam (``'adam'``), and
three schedules for the step size: ``'constant'``, ``'invscaling'``
(:math:`\\eta_t = \\eta / (t+1)^{p}`) and ``'adaptive'`` (divide by 5 on a
setback). Their ``loss_curve_`` tells how fast each gets down. Data: Gabor
features of scikit-learn's digits (offline).
"""

# %%
import warnings

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_gabor import GaborTransformer, GDSoftmaxClassifier
from sklearn_gabor.plotting import LossCurveDisplay

X, y = load_digits(return_X_y=True)
features = make_pipeline(
    GaborTransformer(image_shape=(8, 8), frequencies=(0.15, 0.3), n_orientations=4),
    StandardScaler(),
)
F = features.fit_transform(X / 16.0, y)

# %%
# Solvers
# -------
# An epoch is one pass over the data: one step for 'gd', 'pgd' and 'apgd',
# ``n / batch_size`` smaller, noisier steps for the mini-batch solvers, which
# is why they are ahead after the first epoch. 'pgd' makes one step per
# epoch too, but
# rescaled direction by direction by a fixed bound on the curvature (its
# η=1 is the step that never increases the loss), although each of its
# epochs costs more than one of 'gd' (see the user guide for where it pays).
# 'apgd' takes the same step from a point extrapolated along the last move,
# restarting whenever that overshoots, and ends lowest of the five here.
solvers = {
    "gd, η=1": GDSoftmaxClassifier(solver="gd", learning_rate=1.0),
    "pgd, η=1": GDSoftmaxClassifier(solver="pgd", learning_rate=1.0),
    "apgd, η=1": GDSoftmaxClassifier(solver="apgd", learning_rate=1.0),
    "sgd, η=0.01, momentum 0.9": GDSoftmaxClassifier(solver="sgd", learning_rate=0.01),
    "adam, η=0.001": GDSoftmaxClassifier(solver="adam", learning_rate=0.001),
}
fig, ax = plt.subplots(figsize=(6, 4))
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    for label, clf in solvers.items():
        clf.set_params(max_iter=60, tol=0.0, random_state=0).fit(F, y)
        LossCurveDisplay.from_estimator(clf, label=label, ax=ax)
ax.set_title("Solvers (60 epochs)")

# %%
# Schedules
# ---------
# With a learning rate that is too large for full-batch gradient descent, the
# first steps overshoot and the loss jumps up. 'constant' keeps the large rate
# and zig-zags on; 'invscaling' shrinks the rate every epoch, which calms the
# steps but also slows progress; 'adaptive' undoes each step that increased
# the loss and divides the rate by 5, and gets lowest.
fig, ax = plt.subplots(figsize=(6, 4))
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    for schedule in ["constant", "invscaling", "adaptive"]:
        clf = GDSoftmaxClassifier(solver="gd", learning_rate=30.0, max_iter=60, tol=0.0,
                                  learning_rate_schedule=schedule)
        try:
            clf.fit(F, y)
        except ValueError as exc:  # DivergenceError
            print(f"{schedule}: {exc}")
            continue
        LossCurveDisplay.from_estimator(clf, label=f"'{schedule}', η=30", ax=ax)
ax.set_title("Schedules, full-batch gradient descent")
plt.show()
