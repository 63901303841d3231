"""
=========================================
Linear classifiers as learned templates
=========================================

A linear classifier scores class :math:`t` by :math:`o_t = w_t^\\top x + b_t`.
The weight vector :math:`w_t` has one entry per pixel, so it can be shown as
an image: a *template* that the input is matched against by an inner product.
Fitted on raw pixels, the templates show what each class "looks like" to the
model: on CIFAR-10, a blue sky behind airplanes, a green background behind
frogs, the two-headed horse.

This example uses **CIFAR-10** when it is available in
``$SKLEARN_GABOR_DATA`` (3,000 training images, to stay fast). Without it, it
runs on a **stand-in**, scikit-learn's 8x8 digits, and says so in its output
and figure titles: the templates are then digits, not the CIFAR-10 picture
described above (which the user guide shows).
"""

# %%
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from sklearn_gabor import GDSoftmaxClassifier
from sklearn_gabor.datasets import DatasetNotFoundError, fetch_cifar10
from sklearn_gabor.plotting import TemplatesDisplay

try:
    cifar = fetch_cifar10(download_if_missing=False)
    X, y = cifar.data[:3000] / 255.0, cifar.target[:3000]
    image_shape, names, alpha = (32, 32, 3), list(cifar.target_names), 1.0
    source = "CIFAR-10"
except DatasetNotFoundError:
    from sklearn.datasets import load_digits

    source = "STAND-IN: digits (CIFAR-10 not found)"
    digits = load_digits()
    X, y = digits.data / 16.0, digits.target
    image_shape, names, alpha = (8, 8), [str(t) for t in digits.target_names], 1e-2

# %%
# Centre every pixel by the mean image and divide by one global constant: the
# model then lives in pixel space and its weights read as images. A stronger
# L2 penalty ``alpha`` gives smoother templates at almost no cost in accuracy.
X = (X - X.mean(axis=0)) / X.std()
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    clf = GDSoftmaxClassifier(alpha=alpha, max_iter=100).fit(X, y)
print(f"{source}: training accuracy {clf.score(X, y):.3f}")

# %%
# One template per class
# ----------------------
# Colour templates are rescaled to [0, 1] each (a line under the panels says
# so); grey ones use a diverging colormap with a colour bar (red raises the
# class score, blue lowers it).
disp = TemplatesDisplay.from_estimator(clf, image_shape=image_shape, class_names=names)
disp.figure_.suptitle(f"Rows of W reshaped to images, {source}")

# %%
# For two classes, the model has one hyperplane ``coef_ = w_1 - w_0``;
# :class:`~sklearn_gabor.plotting.TemplatesDisplay` shows it and its negative.
binary = np.isin(y, [0, 1])
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    clf2 = GDSoftmaxClassifier(alpha=alpha, max_iter=100).fit(X[binary], y[binary])
print("binary coef_ shape:", clf2.coef_.shape)
disp2 = TemplatesDisplay.from_estimator(clf2, image_shape=image_shape, class_names=names[:2])
disp2.figure_.suptitle(f"A binary model: -coef_ / 2 and coef_ / 2, {source}")
