"""
===========================================
Choosing the learning rate by grid search
===========================================

The learning rate :math:`\\eta` of gradient descent,
:math:`\\theta \\leftarrow \\theta - \\eta \\nabla L(\\theta)`, is the one
hyper-parameter that matters most: too small and the loss decreases slowly,
too large and it oscillates or blows up. We pick it by cross-validation with
:class:`~sklearn.model_selection.GridSearchCV`, over the whole pipeline, on
scikit-learn's 8x8 digits (offline), with ``solver='gd'``, the plain update.

With the default ``learning_rate_schedule='adaptive'``, a step that increases
the loss is undone and the rate divided by 5, so even very large rates end up
training. With ``'constant'`` they raise
:class:`~sklearn_gabor.exceptions.DivergenceError`, which ``GridSearchCV``
records as a failed fit thanks to ``error_score=np.nan``.
"""

# %%
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning, FitFailedWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_gabor import GaborTransformer, GDSoftmaxClassifier

X, y = load_digits(return_X_y=True)
X = X / 16.0  # pixel values 0..16 -> [0, 1]

pipe = Pipeline([
    ("gabor", GaborTransformer(image_shape=(8, 8), frequencies=(0.15, 0.3), n_orientations=4)),
    ("scale", StandardScaler()),
    ("classifier", GDSoftmaxClassifier(solver="gd", max_iter=100)),
])
grid = {
    "classifier__learning_rate": [0.01, 0.1, 1.0, 10.0, 100.0],
    "classifier__learning_rate_schedule": ["constant", "adaptive"],
}
search = GridSearchCV(pipe, grid, cv=3, error_score=np.nan, n_jobs=2)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    warnings.simplefilter("ignore", FitFailedWarning)  # divergent constant rates
    search.fit(X, y)
print("best parameters:", search.best_params_)
print(f"best cross-validated accuracy: {search.best_score_:.3f}")

# %%
# Validation accuracy against the learning rate
# ---------------------------------------------
# Missing points on the 'constant' curve are divergent fits.
res = search.cv_results_
fig, ax = plt.subplots(figsize=(6, 4))
for schedule, marker in [("constant", "o"), ("adaptive", "s")]:
    rows = res["param_classifier__learning_rate_schedule"] == schedule
    ax.errorbar(np.asarray(res["param_classifier__learning_rate"][rows], float),
                res["mean_test_score"][rows], yerr=res["std_test_score"][rows],
                marker=marker, capsize=3, label=f"schedule='{schedule}'")
ax.set_xscale("log")
ax.set_xlabel("learning rate η")
ax.set_ylabel("3-fold CV accuracy")
ax.set_title("Digits, Gabor features, 100 epochs")
ax.legend()
plt.show()
