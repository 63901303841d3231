"""Display of the class templates of a linear classifier on raw pixels."""

import math

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._base import final_estimator, import_pyplot, panel_axes, relative_colorbar


class TemplatesDisplay:
    """Class templates: the weight rows of a linear model shown as images.

    A linear classifier scores class ``t`` by ``o_t = w_t . x + b_t``: the
    inner product of the image ``x`` with a *template* ``w_t`` of the same
    shape. Fitted on raw pixels, each row of ``W`` therefore reshapes to an
    image that shows what the class "looks like" to the model (the classic
    picture of templates learned on CIFAR-10).

    It is recommended to create a display with :meth:`from_estimator`.

    Parameters
    ----------
    templates : ndarray of shape (n_classes, n_features)
        One template per class.
    image_shape : tuple of int
        ``(H, W)`` or ``(H, W, C)`` with ``H * W * C == n_features``; the
        rows are flattened in C order (channels last).
    class_names : list of str, default=None
        Panel titles; ``None`` numbers the classes.

    Attributes
    ----------
    figure_ : matplotlib Figure
        Figure holding the panels.
    axes_ : ndarray of matplotlib Axes of shape (n_rows, n_cols)
        One Axes per class (extra Axes are hidden).
    images_ : list of matplotlib AxesImage
        The drawn templates, in class order.
    colorbar_ : matplotlib Colorbar or None
        For grayscale templates, the colour bar of the weight relative to
        each panel's maximum; None for colour templates or with
        ``colorbar=False``.
    note_ : matplotlib Text or None
        For colour templates, the line under the panels that says how they
        are scaled; None otherwise or with ``colorbar=False``.

    See Also
    --------
    sklearn_gabor.GDSoftmaxClassifier : a linear classifier with ``coef_``.

    Notes
    -----
    Grayscale templates (and the channel mean of images whose ``C`` is not
    3) are drawn with a diverging colormap scaled symmetrically around 0 in
    each panel, with a colour bar (with the default colormap, red: pixels
    that raise the class score, blue: pixels that lower it). Colour templates
    are rescaled to ``[0, 1]`` per template, ``(w - min w) / (max w - min w)``,
    as in the classic picture, and a line under the panels says so: a bright
    colour is a channel whose weight raises the class score, a dark one a
    channel whose weight lowers it.

    For two classes a binary model reports a single row
    ``coef_ = w_1 - w_0``; :meth:`from_estimator` shows ``-coef_ / 2`` for
    ``classes_[0]`` and ``coef_ / 2`` for ``classes_[1]``, which are exactly
    the two rows trained by :class:`~sklearn_gabor.GDSoftmaxClassifier`
    (its iterates keep ``w_0 = -w_1``).

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_gabor import GDSoftmaxClassifier
    >>> from sklearn_gabor.plotting import TemplatesDisplay
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = GDSoftmaxClassifier(max_iter=50).fit(X / 16, y)
    >>> disp = TemplatesDisplay.from_estimator(clf, image_shape=(8, 8))  # doctest: +SKIP
    >>> disp.axes_.shape  # doctest: +SKIP
    (2, 5)
    """

    def __init__(self, templates, image_shape, class_names=None):
        self.templates = templates
        self.image_shape = image_shape
        self.class_names = class_names

    @classmethod
    def from_estimator(
        cls, estimator, image_shape, *, class_names=None, n_cols=5, cmap="RdBu_r",
        colorbar=True, ax=None,
    ):  # fmt: skip
        """Plot the templates of a fitted linear classifier.

        Parameters
        ----------
        estimator : classifier or Pipeline
            A fitted linear classifier with ``coef_`` and ``classes_`` (such
            as :class:`~sklearn_gabor.GDSoftmaxClassifier`), or a pipeline
            ending with one. The model should have been fitted on raw pixels
            (centred or scaled by one global constant keeps the picture).
        image_shape : tuple of int
            ``(H, W)`` or ``(H, W, C)`` of the images.
        class_names : list of str, default=None
            Panel titles; ``None`` uses ``classes_``.
        n_cols : int, default=5
            Number of panel columns when ``ax`` is None.
        cmap : str or matplotlib Colormap, default='RdBu_r'
            Colormap for grayscale templates.
        colorbar : bool, default=True
            Say how the panels are scaled: a colour bar for grayscale
            templates, a line of text for colour ones.
        ax : array-like of matplotlib Axes, default=None
            At least one Axes per class; ``None`` creates a figure.

        Returns
        -------
        display : TemplatesDisplay
            The display, with ``figure_`` and ``axes_`` set.
        """
        clf = final_estimator(estimator)
        check_is_fitted(clf, "coef_")
        coef = np.asarray(clf.coef_, dtype=float)
        classes = getattr(clf, "classes_", np.arange(max(2, coef.shape[0])))
        if coef.shape[0] == 1 and len(classes) == 2:
            coef = np.vstack([-coef[0] / 2, coef[0] / 2])
        if class_names is None:
            class_names = [str(c) for c in classes]
        disp = cls(coef, image_shape, class_names)
        return disp.plot(n_cols=n_cols, cmap=cmap, colorbar=colorbar, ax=ax)

    def plot(self, *, n_cols=5, cmap="RdBu_r", colorbar=True, ax=None):
        """Draw the templates.

        Parameters
        ----------
        n_cols : int, default=5
            Number of panel columns when ``ax`` is None.
        cmap : str or matplotlib Colormap, default='RdBu_r'
            Colormap for grayscale templates.
        colorbar : bool, default=True
            Say how the panels are scaled: a colour bar for grayscale
            templates, a line of text for colour ones.
        ax : array-like of matplotlib Axes, default=None
            At least one Axes per template; ``None`` creates a figure.

        Returns
        -------
        display : TemplatesDisplay
            This object, with ``figure_``, ``axes_``, ``images_``,
            ``colorbar_`` and ``note_`` set.
        """
        plt = import_pyplot("TemplatesDisplay.plot")
        templates = np.atleast_2d(np.asarray(self.templates, dtype=float))
        shape = tuple(int(s) for s in self.image_shape)
        if len(shape) not in (2, 3) or math.prod(shape) != templates.shape[1]:
            raise ValueError(
                f"image_shape={self.image_shape!r} does not match templates with "
                f"{templates.shape[1]} features (need H * W * C == n_features)."
            )
        n = templates.shape[0]
        names = self.class_names
        if names is not None and len(names) != n:
            raise ValueError(f"class_names has {len(names)} names for {n} templates.")
        fig, axes = panel_axes(plt, n, n_cols, ax, 1.6, "TemplatesDisplay.plot")
        color = len(shape) == 3 and shape[2] == 3
        images = []
        for t, (w, a) in enumerate(zip(templates, axes.flat)):
            img = w.reshape(shape)
            if color:
                lo, hi = img.min(), img.max()
                img = (img - lo) / (hi - lo) if hi > lo else np.full_like(img, 0.5)
                images.append(a.imshow(img, interpolation="nearest"))
            else:
                if img.ndim == 3:  # not RGB: average the channels
                    img = img.mean(axis=2)
                lim = float(np.max(np.abs(img))) or 1.0
                images.append(
                    a.imshow(img, cmap=cmap, vmin=-lim, vmax=lim, interpolation="nearest")
                )
            a.set_xticks([])
            a.set_yticks([])
            a.set_title(names[t] if names is not None else f"class {t}", fontsize=9)
        self.colorbar_ = self.note_ = None
        if colorbar and color:
            self.note_ = fig.text(
                0.5, 0.01,
                "Each template rescaled to [0, 1]: bright where the weight of a "
                "colour channel raises the class score, dark where it lowers it.",
                ha="center", va="bottom", fontsize=8,
            )  # fmt: skip
        elif colorbar:
            self.colorbar_ = relative_colorbar(
                plt, fig, axes, cmap, -1.0, "weight, relative to the panel's max |w|\n"
                "(> 0 raises the class score, < 0 lowers it)", ax is None,
            )  # fmt: skip
        self.figure_ = fig
        self.axes_ = axes
        self.images_ = images
        return self
