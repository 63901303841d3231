"""Where 'pgd' does not pay: the Quickstart's small problem (digits, 128 Gabor features).

Fits ``GDSoftmaxClassifier(solver='pgd')`` with its default ``max_iter`` and
``LogisticRegression`` with the equivalent ``C`` on the standardized Gabor
features of the Quickstart's training digits, three times each, side by side,
and prints the median fit time and the training accuracy of each. Offline.

Usage::

    python benchmarks/bench_small_problem.py
"""

import time
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_gabor import GaborTransformer, GDSoftmaxClassifier

X, y = load_digits(return_X_y=True)
X_train, _, y_train, _ = train_test_split(X / 16, y, random_state=0)
F = make_pipeline(GaborTransformer(image_shape=(8, 8), frequencies=(0.15, 0.3), n_orientations=4),
                  StandardScaler()).fit_transform(X_train)
print(f"Quickstart digits: {F.shape[0]} training images, {F.shape[1]} Gabor features")
alpha = GDSoftmaxClassifier().alpha  # the default L2 weight
models = {
    "GDSoftmaxClassifier(solver='pgd')": GDSoftmaxClassifier(solver="pgd", learning_rate=1.0, alpha=alpha),
    "LogisticRegression(lbfgs)": LogisticRegression(C=1 / (alpha * len(y_train)), max_iter=1000),
}
for name, model in models.items():
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(F, y_train)
        times.append(time.perf_counter() - t0)
    epochs = getattr(model, "n_iter_", None)
    epochs = int(np.max(epochs)) if epochs is not None else "?"
    print(f"{name:36s} median fit {np.median(times):6.3f} s ({epochs} iterations), "
          f"training accuracy {model.score(F, y_train):.4f}")
