"""Find the public estimators of sklearn-gabor (used by the common tests)."""

import inspect
import pkgutil
from importlib import import_module
from operator import itemgetter

from sklearn.base import BaseEstimator

import sklearn_gabor


def all_estimators():
    """Return ``(name, class)`` for every public estimator in ``sklearn_gabor``.

    Walks the package (skipping private modules and tests) and collects the
    concrete :class:`~sklearn.base.BaseEstimator` subclasses, so a new
    estimator is picked up by ``tests/test_common.py`` without any upkeep.
    """
    found = {}
    root = sklearn_gabor.__path__
    for _, module_name, _ in pkgutil.walk_packages(root, prefix="sklearn_gabor."):
        parts = module_name.split(".")
        if "tests" in parts or any(
            p.startswith("_") and p != "__main__" for p in parts[1:-1]
        ):
            continue
        if parts[-1] == "__main__":
            continue
        module = import_module(module_name)
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(cls, BaseEstimator)
                and not name.startswith("_")
                and cls.__module__.startswith("sklearn_gabor")
                and not inspect.isabstract(cls)
            ):
                found[name] = cls
    # public names re-exported by the top level package count too
    for name in getattr(sklearn_gabor, "__all__", []):
        obj = getattr(sklearn_gabor, name)
        if inspect.isclass(obj) and issubclass(obj, BaseEstimator):
            found[name] = obj
    return sorted(found.items(), key=itemgetter(0))
