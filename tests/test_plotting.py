"""Displays of sklearn_gabor.plotting, drawn with the Agg backend (no window)."""

import subprocess
import sys

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from sklearn_gabor import GaborTransformer, GDSoftmaxClassifier  # noqa: E402
from sklearn_gabor.plotting import (  # noqa: E402
    FilterBankDisplay,
    LossCurveDisplay,
    TemplatesDisplay,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:400] / 16.0, y[:400]


def visible_panels(fig):
    fig.canvas.draw()  # render for real: catches errors that only show when drawn
    return [a for a in fig.axes if a.get_visible()]


def fitted_gabor(n_freqs=2, n_orientations=3):
    freqs = (0.15, 0.3, 0.45)[:n_freqs]
    gabor = GaborTransformer(image_shape=(8, 8), frequencies=freqs, n_orientations=n_orientations)
    return gabor.fit(np.zeros((2, 64)))


# ---------------------------------------------------------------- filter bank
def test_filter_bank_one_panel_per_kernel():
    disp = FilterBankDisplay.from_estimator(fitted_gabor(2, 3))
    assert disp.axes_.shape == (2, 3)  # rows: frequencies, columns: orientations
    assert not hasattr(disp, "ax_")  # a grid of panels is axes_, as in scikit-learn
    assert len(visible_panels(disp.figure_)) == 6 + 1  # and the colour bar
    assert len(disp.images_) == 6
    assert disp.axes_[0, 1].get_title() == "θ=60°"
    assert disp.axes_[1, 0].get_ylabel() == "f=0.3\ncycles/pixel"  # with its unit


@pytest.mark.parametrize("part, low", [("real", -1.0), ("imag", -1.0), ("modulus", 0.0)])
def test_filter_bank_colorbar_says_what_the_colours_mean(part, low):
    disp = FilterBankDisplay.from_estimator(fitted_gabor(2, 3), part=part)
    bar = disp.colorbar_
    assert bar.mappable.norm.vmin == low and bar.mappable.norm.vmax == 1.0
    assert "/ its panel's max" in bar.ax.get_ylabel()
    assert bar.mappable.get_cmap().name == "RdBu_r"
    # the images themselves span their panel's own [-max, max] (or [0, max])
    for im, k in zip(disp.images_, fitted_gabor(2, 3).kernels_):
        vmin, vmax = im.get_clim()
        assert vmin == pytest.approx(low * vmax)
    fig_no_bar = FilterBankDisplay.from_estimator(fitted_gabor(2, 3), colorbar=False)
    assert fig_no_bar.colorbar_ is None
    assert len(visible_panels(fig_no_bar.figure_)) == 6


def test_filter_bank_same_scale_pads_to_largest_kernel():
    gabor = fitted_gabor(2, 2)
    big = max(k.shape for k in gabor.kernels_)
    disp = FilterBankDisplay.from_estimator(gabor, same_scale=True)
    assert all(im.get_array().shape == big for im in disp.images_)
    disp = FilterBankDisplay.from_estimator(gabor, same_scale=False, part="modulus")
    assert [im.get_array().shape for im in disp.images_] == [k.shape for k in gabor.kernels_]
    assert all(im.get_array().min() >= 0 for im in disp.images_)


def test_filter_bank_from_pipeline_and_given_axes(digits):
    X, y = digits
    pipe = make_pipeline(fitted_gabor(1, 4), StandardScaler()).fit(X)
    fig, axes = plt.subplots(1, 6)
    disp = FilterBankDisplay.from_estimator(pipe, ax=axes)
    assert disp.figure_ is fig
    assert len(visible_panels(fig)) == 4 + 1  # 2 spare Axes hidden; the colour bar


def test_filter_bank_errors():
    with pytest.raises(NotFittedError):
        FilterBankDisplay.from_estimator(GaborTransformer())
    with pytest.raises(TypeError, match="GaborTransformer"):
        FilterBankDisplay.from_estimator(StandardScaler())
    with pytest.raises(ValueError, match="part"):
        FilterBankDisplay.from_estimator(fitted_gabor(), part="phase")
    _, axes = plt.subplots(1, 2)
    with pytest.raises(ValueError, match="6 panels"):
        FilterBankDisplay.from_estimator(fitted_gabor(2, 3), ax=axes)


def test_filter_bank_without_params_uses_a_plain_grid():
    kernels = [np.ones((3, 3)), np.ones((5, 5)), np.ones((3, 3))]
    disp = FilterBankDisplay(kernels).plot(colorbar=False)
    assert len(visible_panels(disp.figure_)) == 3


def test_filter_bank_irregular_bank_titles_carry_the_unit():
    from sklearn_gabor import gabor_kernel

    params = [{"frequency": 0.1, "theta": 0.0}, {"frequency": 0.2, "theta": 0.5},
              {"frequency": 0.2, "theta": 1.0}]  # fmt: skip
    kernels = [gabor_kernel(p["frequency"], theta=p["theta"]) for p in params]
    disp = FilterBankDisplay(kernels, params).plot()
    assert disp.axes_.flat[0].get_title() == "f=0.1 cycles/px\nθ=0°"


# ------------------------------------------------------------------ templates
def test_templates_one_panel_per_class(digits):
    X, y = digits
    clf = GDSoftmaxClassifier(max_iter=20).fit(X, y)
    disp = TemplatesDisplay.from_estimator(clf, image_shape=(8, 8))
    assert disp.axes_.shape == (2, 5)
    assert len(visible_panels(disp.figure_)) == 10 + 1  # and the colour bar
    assert [a.get_title() for a in disp.axes_.flat] == [str(c) for c in range(10)]
    np.testing.assert_allclose(disp.images_[3].get_array(), clf.coef_[3].reshape(8, 8))
    label = disp.colorbar_.ax.get_ylabel()
    assert "raises the class score" in label and "lowers it" in label
    assert [t.get_text() for t in disp.colorbar_.ax.get_yticklabels()] == ["-max", "0", "+max"]
    assert disp.note_ is None


def test_templates_binary_shows_both_classes(digits):
    X, y = digits
    clf = make_pipeline(GDSoftmaxClassifier(max_iter=20)).fit(X, y == 3)
    disp = TemplatesDisplay.from_estimator(clf, image_shape=(8, 8), class_names=["other", "three"])
    assert len(visible_panels(disp.figure_)) == 2 + 1  # and the colour bar
    coef = clf[-1].coef_[0].reshape(8, 8)
    np.testing.assert_allclose(disp.images_[1].get_array(), coef / 2)
    np.testing.assert_allclose(disp.images_[0].get_array(), -coef / 2)


def test_templates_colour_images_rescaled_to_unit_range():
    rng = np.random.default_rng(0)
    disp = TemplatesDisplay(rng.normal(size=(3, 4 * 5 * 3)), image_shape=(4, 5, 3)).plot(n_cols=3)
    assert disp.axes_.shape == (1, 3)
    assert disp.colorbar_ is None  # RGB has no single colormap: a line of text instead
    assert "rescaled to [0, 1]" in disp.note_.get_text()
    assert disp.note_ in disp.figure_.texts
    for im in disp.images_:
        arr = np.asarray(im.get_array())
        assert arr.shape == (4, 5, 3)
        assert arr.min() == pytest.approx(0) and arr.max() == pytest.approx(1)


def test_templates_errors(digits):
    X, y = digits
    with pytest.raises(NotFittedError):
        TemplatesDisplay.from_estimator(GDSoftmaxClassifier(), image_shape=(8, 8))
    clf = GDSoftmaxClassifier(max_iter=5).fit(X, y)
    with pytest.raises(ValueError, match="image_shape"):
        TemplatesDisplay.from_estimator(clf, image_shape=(7, 7))
    with pytest.raises(ValueError, match="class_names"):
        TemplatesDisplay.from_estimator(clf, image_shape=(8, 8), class_names=["a"])


# ----------------------------------------------------------------- loss curve
def test_loss_curves_share_one_axes(digits):
    X, y = digits
    fits = [GDSoftmaxClassifier(learning_rate=lr, max_iter=15).fit(X, y) for lr in (0.01, 1.0)]
    disp = LossCurveDisplay.from_estimator(fits[0])
    other = LossCurveDisplay.from_estimator(fits[1], ax=disp.ax_)
    assert other.ax_ is disp.ax_ and other.figure_ is disp.figure_
    assert len(visible_panels(disp.figure_)) == 1
    assert len(disp.ax_.lines) == 2
    np.testing.assert_allclose(disp.line_.get_ydata(), fits[0].loss_curve_)
    assert list(disp.line_.get_xdata()) == list(range(1, fits[0].n_iter_ + 1))
    labels = [t.get_text() for t in disp.ax_.get_legend().get_texts()]
    assert labels == ["learning_rate=0.01", "learning_rate=1"]
    assert disp.ax_.get_yscale() == "log"


def test_loss_curve_from_pipeline_linear_scale(digits):
    X, y = digits
    pipe = make_pipeline(StandardScaler(), GDSoftmaxClassifier(max_iter=10)).fit(X, y)
    disp = LossCurveDisplay.from_estimator(pipe, label="gd", log_scale=False, color="k")
    assert disp.ax_.get_yscale() == "linear"
    assert disp.line_.get_label() == "gd"
    with pytest.raises(NotFittedError):
        LossCurveDisplay.from_estimator(GDSoftmaxClassifier())


def test_loss_curve_from_mlp_classifier(digits):
    """MLPClassifier's learning_rate is a schedule name: label by learning_rate_init."""
    from sklearn.neural_network import MLPClassifier

    X, y = digits
    mlp = MLPClassifier(hidden_layer_sizes=(), max_iter=5, random_state=0).fit(X, y)
    disp = LossCurveDisplay.from_estimator(mlp)
    assert disp.line_.get_label() == "learning_rate_init=0.001"
    np.testing.assert_allclose(disp.line_.get_ydata(), mlp.loss_curve_)
    sgd = MLPClassifier(hidden_layer_sizes=(), solver="sgd", learning_rate="adaptive",
                        learning_rate_init=0.05, max_iter=5, random_state=0).fit(X, y)  # fmt: skip
    disp = LossCurveDisplay.from_estimator(sgd, ax=disp.ax_)
    assert disp.line_.get_label() == "learning_rate_init=0.05"


def test_loss_curve_without_a_learning_rate_has_no_label():
    from sklearn.base import BaseEstimator

    class Curve(BaseEstimator):
        def fit(self, X=None, y=None):
            self.loss_curve_ = [3.0, 2.0, 1.5]
            return self

    disp = LossCurveDisplay.from_estimator(Curve().fit())
    assert disp.line_.get_label().startswith("_")  # matplotlib's "no label"
    assert disp.ax_.get_legend() is None


# ------------------------------------------------------- optional dependency
def test_import_does_not_need_matplotlib():
    code = (
        "import sys, sklearn_gabor, sklearn_gabor.plotting;"
        "assert 'matplotlib' not in sys.modules, 'matplotlib imported eagerly'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_clear_import_error_without_matplotlib(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"pip install sklearn-gabor\[plot\]"):
        FilterBankDisplay.from_estimator(fitted_gabor())

