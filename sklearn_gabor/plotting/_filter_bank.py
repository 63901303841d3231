"""Display of a Gabor filter bank: one panel per kernel."""

import numpy as np
from sklearn.utils.validation import check_is_fitted

from .._gabor import GaborTransformer
from ._base import import_pyplot, panel_axes, relative_colorbar

_PARTS = {
    "real": np.real,
    "imag": np.imag,
    "modulus": np.abs,
}


def _pad_to(kernel, shape):
    """Centre ``kernel`` in a zero array of ``shape`` (no larger than it)."""
    out = np.zeros(shape, dtype=kernel.dtype)
    r = (shape[0] - kernel.shape[0]) // 2
    c = (shape[1] - kernel.shape[1]) // 2
    out[r : r + kernel.shape[0], c : c + kernel.shape[1]] = kernel
    return out


class FilterBankDisplay:
    """Filter bank visualization: the kernels of a Gabor bank as images.

    It is recommended to create a display with :meth:`from_estimator`, which
    reads the bank of a fitted :class:`~sklearn_gabor.GaborTransformer`, and
    then to restyle it with :meth:`plot`. When the bank is a full grid of
    frequencies x orientations, rows are frequencies (in cycles per pixel)
    and columns orientations (in degrees).

    Each panel is scaled to its own maximum absolute value (low frequencies
    have smaller peak values), symmetrically around 0 for the real and
    imaginary parts; the colour bar gives the value relative to that maximum
    (with the default colormap: red positive, blue negative, white 0).

    Parameters
    ----------
    kernels : list of ndarray of shape (h_i, w_i)
        The complex (or real) kernels, e.g. ``GaborTransformer.kernels_``.
    kernel_params : list of dict, default=None
        Per kernel, a dict with at least ``frequency`` (cycles/pixel) and
        ``theta`` (radians), used for the labels, e.g.
        ``GaborTransformer.kernel_params_``.

    Attributes
    ----------
    figure_ : matplotlib Figure
        Figure holding the panels.
    axes_ : ndarray of matplotlib Axes of shape (n_rows, n_cols)
        One Axes per kernel (extra Axes are hidden).
    images_ : list of matplotlib AxesImage
        The drawn kernels, in bank order.
    colorbar_ : matplotlib Colorbar or None
        The colour bar (value relative to each panel's maximum), or None
        with ``colorbar=False``.

    See Also
    --------
    sklearn_gabor.GaborTransformer : computes the features of this bank.
    sklearn_gabor.gabor_bank : builds the kernels and their parameters.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_gabor import GaborTransformer
    >>> from sklearn_gabor.plotting import FilterBankDisplay
    >>> gabor = GaborTransformer(image_shape=(8, 8), frequencies=(0.15, 0.3),
    ...                          n_orientations=4).fit(np.zeros((1, 64)))
    >>> disp = FilterBankDisplay.from_estimator(gabor)  # doctest: +SKIP
    >>> disp.axes_.shape  # doctest: +SKIP
    (2, 4)
    """

    def __init__(self, kernels, kernel_params=None):
        self.kernels = kernels
        self.kernel_params = kernel_params

    @classmethod
    def from_estimator(
        cls, estimator, *, part="real", same_scale=True, cmap="RdBu_r", colorbar=True, ax=None
    ):
        """Plot the filter bank of a fitted :class:`~sklearn_gabor.GaborTransformer`.

        Parameters
        ----------
        estimator : GaborTransformer or Pipeline
            A fitted transformer with ``kernels_`` and ``kernel_params_``, or a
            fitted pipeline that contains one (its first such step is used).
        part : {'real', 'imag', 'modulus'}, default='real'
            Which part of each complex kernel to draw: the even (cosine) part,
            the odd (sine) part, or the Gaussian envelope ``|g|``.
        same_scale : bool, default=True
            Pad every kernel with zeros to the size of the largest, so that
            panels share one pixel scale (low frequencies have wide kernels).
        cmap : str or matplotlib Colormap, default='RdBu_r'
            Colormap; each panel is scaled symmetrically around 0.
        colorbar : bool, default=True
            Draw a colour bar of the value relative to each panel's maximum.
        ax : array-like of matplotlib Axes, default=None
            At least ``len(kernels_)`` Axes to draw into; ``None`` creates a
            figure with one row per frequency.

        Returns
        -------
        display : FilterBankDisplay
            The display, with ``figure_`` and ``axes_`` set.
        """
        steps = [s for _, s in getattr(estimator, "steps", [])] or [estimator]
        gabor = next((s for s in steps if isinstance(s, GaborTransformer)), None)
        if gabor is None:
            raise TypeError(
                "FilterBankDisplay.from_estimator needs a GaborTransformer (or a "
                f"Pipeline containing one); got {type(estimator).__name__}."
            )
        check_is_fitted(gabor, "kernels_")
        disp = cls(gabor.kernels_, gabor.kernel_params_)
        return disp.plot(part=part, same_scale=same_scale, cmap=cmap, colorbar=colorbar, ax=ax)

    def _grid(self):
        """``(n_rows, n_cols, full_grid)`` for the panels."""
        n = len(self.kernels)
        if not self.kernel_params:
            return None, min(n, 8), False
        freqs = [p["frequency"] for p in self.kernel_params]
        n_freqs = len(dict.fromkeys(freqs))
        n_cols = n // n_freqs
        full = n_freqs * n_cols == n and all(
            freqs[i] == freqs[(i // n_cols) * n_cols] for i in range(n)
        )
        return (n_freqs, n_cols, True) if full else (None, min(n, 8), False)

    def plot(self, *, part="real", same_scale=True, cmap="RdBu_r", colorbar=True, ax=None):
        """Draw the kernels.

        Parameters
        ----------
        part : {'real', 'imag', 'modulus'}, default='real'
            Which part of each kernel to draw.
        same_scale : bool, default=True
            Pad kernels to a common size so that panels share one pixel scale.
        cmap : str or matplotlib Colormap, default='RdBu_r'
            Colormap, symmetric around 0 in each panel.
        colorbar : bool, default=True
            Draw a colour bar of the value relative to each panel's maximum.
        ax : array-like of matplotlib Axes, default=None
            Axes to draw into (at least one per kernel); ``None`` creates a
            figure.

        Returns
        -------
        display : FilterBankDisplay
            This object, with ``figure_``, ``axes_``, ``images_`` and
            ``colorbar_`` set.
        """
        if part not in _PARTS:
            raise ValueError(f"part must be one of {sorted(_PARTS)}; got {part!r}.")
        plt = import_pyplot("FilterBankDisplay.plot")
        n = len(self.kernels)
        if n == 0:
            raise ValueError("FilterBankDisplay: the bank holds no kernels.")
        _, n_cols, full = self._grid()
        fig, axes = panel_axes(plt, n, n_cols, ax, 1.3, "FilterBankDisplay.plot")
        big = (
            max(k.shape[0] for k in self.kernels),
            max(k.shape[1] for k in self.kernels),
        )
        images = []
        for i, (kernel, a) in enumerate(zip(self.kernels, axes.flat)):
            values = _PARTS[part](np.asarray(kernel))
            if same_scale:
                values = _pad_to(values, big)
            lim = float(np.max(np.abs(values))) or 1.0
            vmin = 0.0 if part == "modulus" else -lim
            images.append(
                a.imshow(values, cmap=cmap, vmin=vmin, vmax=lim, interpolation="nearest")
            )
            a.set_xticks([])
            a.set_yticks([])
            if self.kernel_params:
                prm = self.kernel_params[i]
                deg = f"{np.degrees(prm['theta']):.4g}°"
                freq = f"f={prm['frequency']:.3g}"
                if full:
                    if i < n_cols:
                        a.set_title(f"θ={deg}", fontsize=9)
                    if i % n_cols == 0:
                        a.set_ylabel(f"{freq}\ncycles/pixel", fontsize=8)
                else:
                    a.set_title(f"{freq} cycles/px\nθ={deg}", fontsize=7)
        self.colorbar_ = None
        if colorbar:
            what = {"real": "real part", "imag": "imaginary part", "modulus": "|g|"}[part]
            low = 0.0 if part == "modulus" else -1.0
            label = f"{what} / its panel's max"
            self.colorbar_ = relative_colorbar(plt, fig, axes, cmap, low, label, ax is None)
        self.figure_ = fig
        self.axes_ = axes
        self.images_ = images
        return self
