"""
==============
Early stopping
==============

With ``early_stopping=True``, :class:`~sklearn_gabor.GDSoftmaxClassifier` holds
out ``validation_fraction`` of the training data, records the validation
accuracy after every epoch in ``validation_scores_``, stops once it has not
improved by ``tol`` for ``n_iter_no_change`` epochs, and restores the weights
of the best epoch. We compare the training loss and validation accuracy with
and without it, on raw pixels of scikit-learn's digits (offline).

The loss is convex and a linear model over-fits the digits very little, so
here early stopping mainly saves epochs. It costs some accuracy: it trains on
80 % of the training set and stops at the first plateau of the validation
accuracy (a larger ``n_iter_no_change`` waits longer). It pays off on models
and data where the validation accuracy really turns down.
"""

# %%
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from sklearn_gabor import GDSoftmaxClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X / 16.0, y, train_size=1000,
                                                    stratify=y, random_state=0)
common = dict(solver="adam", learning_rate=0.01, alpha=0.0, max_iter=200, tol=1e-3,
              n_iter_no_change=10, random_state=0)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    full = GDSoftmaxClassifier(**common).fit(X_train, y_train)
    early = GDSoftmaxClassifier(early_stopping=True, validation_fraction=0.2,
                                **common).fit(X_train, y_train)
for name, clf in [("no early stopping", full), ("early stopping", early)]:
    print(f"{name:>18s}: {clf.n_iter_:3d} epochs, test accuracy {clf.score(X_test, y_test):.3f}")

# %%
# Curves
# ------
# Epochs are counted from 1, as in ``n_iter_`` and
# :class:`~sklearn_gabor.plotting.LossCurveDisplay`: entry ``i`` of
# ``loss_curve_`` and ``validation_scores_`` is the state after epoch ``i + 1``.
fig, (ax_loss, ax_val) = plt.subplots(1, 2, figsize=(10, 3.8))
for clf, label in [(full, "no early stopping"), (early, "early stopping")]:
    ax_loss.plot(np.arange(1, clf.n_iter_ + 1), clf.loss_curve_, label=label)
ax_loss.set_yscale("log")
ax_loss.set_xlabel("epoch")
ax_loss.set_ylabel("training loss")
ax_loss.legend()
scores = np.asarray(early.validation_scores_)
epochs = np.arange(1, scores.size + 1)
ax_val.plot(epochs, scores, color="C1")
best = int(epochs[np.argmax(scores)])  # the first epoch with the best score
print(f"best validation accuracy {scores.max():.3f} after epoch {best} (of {early.n_iter_})")
ax_val.axvline(best, color="gray", ls="--", label=f"best epoch ({best}), weights restored")
ax_val.set_xlabel("epoch")
ax_val.set_ylabel("held-out validation accuracy")
ax_val.legend()
fig.tight_layout()
plt.show()
