"""Helpers shared by the Displays: lazy matplotlib import and panel grids."""

import math

import numpy as np

PLOT_EXTRA_HINT = "pip install sklearn-gabor[plot]"


def import_pyplot(caller):
    """Import :mod:`matplotlib.pyplot` or raise an ImportError that says how.

    Parameters
    ----------
    caller : str
        Name shown in the error message, e.g. ``"FilterBankDisplay.plot"``.

    Returns
    -------
    plt : module
        :mod:`matplotlib.pyplot`.
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            f"{caller} needs matplotlib, which is not installed: "
            f"{PLOT_EXTRA_HINT}"
        ) from exc
    return plt


def final_estimator(estimator):
    """The last step of a :class:`~sklearn.pipeline.Pipeline`, else ``estimator``."""
    steps = getattr(estimator, "steps", None)
    return steps[-1][1] if steps else estimator


def panel_axes(plt, n_panels, n_cols, ax, panel_size, caller):
    """A 2-D array of ``n_rows x n_cols`` Axes holding at least ``n_panels``.

    With ``ax=None`` a new figure is made; otherwise ``ax`` must be an array
    (or list) of at least ``n_panels`` Axes, which is reshaped to one row when
    it is 1-D. Axes beyond ``n_panels`` are hidden.

    Returns
    -------
    fig : matplotlib Figure
    axes : ndarray of Axes, 2-D
    """
    if ax is None:
        n_cols = max(1, min(n_cols, n_panels))
        n_rows = math.ceil(n_panels / n_cols)
        fig, axes = plt.subplots(
            n_rows,
            n_cols,
            figsize=(panel_size * n_cols, panel_size * n_rows + 0.4),
            squeeze=False,
        )
    else:
        axes = np.asarray(ax, dtype=object)
        if axes.ndim == 0:
            axes = axes.reshape(1, 1)
        elif axes.ndim == 1:
            axes = axes.reshape(1, -1)
        if axes.size < n_panels:
            raise ValueError(
                f"{caller}: ax holds {axes.size} Axes but {n_panels} panels "
                "are needed; pass ax=None to create a figure."
            )
        fig = axes.flat[0].figure
    for extra in axes.flat[n_panels:]:
        extra.set_visible(False)
    return fig, axes


def relative_colorbar(plt, fig, axes, cmap, low, label, grow=False):
    """One colour bar for panels that are each scaled to their own maximum.

    The panels share a colormap but not a scale (each is scaled to its own
    maximum absolute value), so the bar is labelled relative to that maximum:
    from ``low`` (-1 for signed values, 0 for non-negative ones) to 1.
    ``grow=True`` widens the figure by one inch to make room for it.

    Returns
    -------
    colorbar : matplotlib Colorbar
    """
    from matplotlib.colors import Normalize

    if grow:  # a figure the display made: widen it for the bar and its label
        fig.set_figwidth(fig.get_figwidth() + 1.0)
    mappable = plt.cm.ScalarMappable(norm=Normalize(low, 1.0), cmap=cmap)
    ticks = [low, 0.0, 1.0] if low < 0 else [0.0, 0.5, 1.0]
    names = ["-max", "0", "+max"] if low < 0 else ["0", "max/2", "max"]
    bar = fig.colorbar(
        mappable, ax=list(np.ravel(axes)), ticks=ticks, shrink=0.8, fraction=0.04, pad=0.03
    )
    bar.ax.set_yticklabels(names)
    bar.set_label(label, fontsize=8)
    bar.ax.tick_params(labelsize=8)
    return bar
