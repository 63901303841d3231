"""Gabor filter-bank features for images stored as rows of ``X``."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ._engine import build_features, effective_threads, kernel_labels
from ._gabor_checks import STATS, resolve_config
from .utils._atomic import restore_on_failure
from .utils._estimator import SklearnGaborMixin
from .utils._images import validate_images
from .utils._sklearn_compat import (
    Interval,
    StrOptions,
    _check_feature_names_in,
    _fit_context,
)

__all__ = ["GaborTransformer"]

_NONLINEARITIES = ("modulus", "real", "imag", "rectified", "squared")


class GaborTransformer(TransformerMixin, SklearnGaborMixin, BaseEstimator):
    r"""Gabor filter-bank features of images stored as the rows of ``X``.

    Each row of ``X`` is an image flattened in C order from shape
    ``(H, W)`` or ``(H, W, C)`` (channels last, as a ``(n, H, W, C)`` array
    reshaped to ``(n, H * W * C)``). Every image channel is convolved with a
    bank of complex Gabor kernels (frequencies x orientations)

    .. math::

        g(x, y) = \frac{1}{2\pi\sigma_x\sigma_y}
            \exp\left(-\frac{1}{2}\left(\frac{x'^2}{\sigma_x^2}
                + \frac{y'^2}{\sigma_y^2}\right)\right)
            \exp\left(i\,(2\pi f x' + \varphi)\right),
        \quad x' = x\cos\theta + y\sin\theta,\;
        y' = -x\sin\theta + y\cos\theta,

    with ``f`` in cycles per pixel, ``theta`` in radians and, unless
    ``sigma_x``/``sigma_y`` are given, the envelope width set by the
    half-power bandwidth ``b`` in octaves,

    .. math::

        \sigma_x = \sigma_y = \frac{1}{\pi f}\sqrt{\frac{\ln 2}{2}}
            \frac{2^b + 1}{2^b - 1}

    (the kernels are those of :func:`~sklearn_gabor.gabor_kernel`, equal to
    :func:`skimage.filters.gabor_kernel`). The complex response
    ``r = I * g`` (a true convolution, equal to
    ``ndimage.convolve(I, g.real, mode) + 1j * ndimage.convolve(I, g.imag, mode)``)
    goes through a pointwise ``nonlinearity``, is pooled over a grid of cells
    with the statistics ``pool_stats`` and optionally compressed.

    Filtering is done in the Fourier domain: one forward FFT per image
    channel, shared by all filters, batched over images (``batch_size``) with
    :mod:`scipy.fft`, batches in parallel threads (``n_jobs``), in single
    precision (complex64) unless float64 output is asked for.

    Parameters
    ----------
    image_shape : tuple of int, default=None
        ``(H, W)`` for grayscale or ``(H, W, C)`` for ``C`` channels, with
        ``H * W * C == n_features``. ``None`` takes a square grayscale image
        ``(r, r)`` when ``n_features = r**2`` and otherwise a one-row strip
        ``(1, n_features)``, with a UserWarning.
    frequencies : float or sequence of float, default=(0.05, 0.1, 0.2, 0.4)
        Frequencies of the bank in cycles per pixel, each in ``(0, 0.5]``.
        The default is octave spaced, which with ``bandwidth=1`` tiles the
        frequency axis.
    n_orientations : int, default=8
        Orientations ``theta_j = j pi / n_orientations``, j = 0 .. n - 1.
        Ignored when ``thetas`` is given.
    thetas : sequence of float, default=None
        Explicit orientations in radians.
    bandwidth : float, default=1.0
        Half-power bandwidth in octaves (sets ``sigma_x = sigma_y``).
    sigma_x, sigma_y : float, default=None
        Envelope standard deviations in pixels along ``x'`` and ``y'``,
        overriding ``bandwidth`` for every frequency.
    n_stds : float, default=3.0
        Kernel half-size in standard deviations (as in scikit-image).
    offset : float, default=0.0
        Phase offset of the harmonic in radians.
    nonlinearity : {'modulus', 'real', 'imag', 'rectified', 'squared'}, default='modulus'
        Pointwise map of the complex response ``r``: ``|r|``, ``Re r``,
        ``Im r``, the two half-wave rectified parts ``max(Re r, 0)`` and
        ``max(Im r, 0)`` (two maps per filter), or ``|r|**2``.
    mode : {'reflect', 'constant', 'wrap'}, default='reflect'
        Boundary extension, as in :func:`scipy.ndimage.convolve`
        ('reflect' = ``d c b a | a b c d | d c b a``, 'constant' = zeros,
        'wrap' = periodic). Kernels larger than the image are fine with every
        mode: the extension is repeated as often as needed ('reflect' is the
        period-``2H`` mirrored image, 'wrap' the period-``H`` image), exactly
        as ``scipy.ndimage.convolve`` does.
    color : {'per_channel', 'gray', 'opponent'}, default='per_channel'
        'per_channel' filters every channel; 'gray' filters the luminance
        (``0.2125 R + 0.7154 G + 0.0721 B`` for 3 channels, the channel mean
        otherwise); 'opponent' (3 channels only) filters the luminance
        ``(R + G + B) / 3`` and the opponent channels ``R - G`` and
        ``(R + G) / 2 - B``.
    pool_grid : tuple of (int, int), default=(4, 4)
        Number of pooling cells along the rows and the columns; ``(1, 1)`` is
        global pooling. Cell ``a`` spans rows ``[a H // gh, (a + 1) H // gh)``.
        A grid finer than the image is reduced to one cell per pixel (see
        ``pool_grid_``).
    pool_stats : str or tuple of str, default=('mean',)
        Statistics over each cell, from 'mean', 'max', 'std'.
    compression : {'none', 'log1p', 'sqrt'}, default='none'
        Applied to the pooled features, sign-preserving:
        ``sign(v) log(1 + |v|)`` or ``sign(v) sqrt(|v|)``.
    contrast_normalization : bool, default=False
        Standardize each image (over all its pixels and channels) to zero
        mean and unit variance before filtering:
        ``(x - mean) / sqrt(var + 1e-8)``.
    resolution : {'auto', 'full'}, default='auto'
        'full' computes every response at full resolution. 'auto' computes
        the modulus (or squared modulus) of a band-limited filter on a grid
        ``s`` times coarser, as scattering transforms do, when
        ``pool_stats=('mean',)``: ``s`` is a power of two that divides the
        cell boundaries and leaves at least 4 samples per cell side, and at
        most 0.1 % of the kernel's spectral energy (weighted by a ``1/|k|^2``
        natural-image spectrum) may lie outside a band of half the coarse
        grid's width (so ``|r|^2``, twice as wide, is not aliased). The
        response is demodulated (its spectrum shifted to 0, which leaves the
        modulus unchanged) and sampled at the centres of ``s x s`` blocks.
        With ``order=2`` the second layer allows the band the whole coarse
        grid (the response itself unaliased, so its samples are exact) and
        leaves out up to 1e-5 instead of 1e-6 of a kernel's spectral tail per
        axis; on 32 x 32 images that makes the recipe's cascade 1.28x
        faster and moves its features from 5.5e-3 to 5.9e-3 of 'full'
        (largest difference relative to the largest feature). The pooled means then
        agree with 'full' to a few 1e-3 (relative, in norm; the tests
        require 1e-2). 'max' and 'std' pooling, which
        coarse sampling biases by a few percent, and the other
        nonlinearities always use full resolution; ``strides_`` shows what
        was used.
    order : {1, 2}, default=1
        2 appends second-order (cascade) features, as a scattering transform
        does: every first-order modulus map ``U = |I_c * g_1|`` (computed at
        full resolution, with the same ``mode``) is filtered again by every
        kernel ``g_2`` of the bank with a lower frequency and its modulus is
        pooled like the first-order maps (same grid, statistics and
        compression):

        .. math::

            S_2[c, g_1, g_2] = \operatorname{pool}\big(\,\big|\,|I_c * g_1|
                * g_2\big|\,\big), \qquad f(g_2) < f(g_1).

        The first-order features (with ``nonlinearity``) come first, then
        the pairs listed in ``cascade_pairs_``. With F frequencies and L
        orientations there are ``L^2 F (F - 1) / 2`` pairs per channel, so
        the cost grows about tenfold for the default bank.
    first_order : bool, default=True
        Whether the output holds the first-order features. ``False`` (with
        ``order=2`` only) keeps only the second-order paths, e.g. to put the
        cascade next to a first-order bank with the same frequencies in a
        :class:`~sklearn.pipeline.FeatureUnion` without computing and
        storing those columns twice.
    cascade_frequencies : array-like of float, default=None
        The frequencies of the second order (``order=2`` only): the paths
        ``g_1 -> g_2`` use only kernels of these frequencies, in both layers
        (None: every frequency of ``frequencies``). With
        ``frequencies=(0.05, 0.1, 0.2, 0.4)`` and
        ``cascade_frequencies=(0.1, 0.2, 0.4)`` the output is the first order
        of all four frequencies followed by the second order of the three,
        the same columns as a first-order bank and a ``first_order=False``
        cascade side by side in a :class:`~sklearn.pipeline.FeatureUnion`,
        but each first-order response that feeds the cascade is computed once
        for both (on the documented CIFAR-10 bank, 1.1-1.3x faster than the
        two transformers).
    flip_invariant : bool, default=False
        Make the features invariant to the left-right mirror ``flip`` of the
        images (columns reversed) by averaging the pooled features ``F``
        (before ``compression``) of each image and of its mirror,

        .. math::

            S(x) = \tfrac{1}{2}\big(F(x) + F(\operatorname{flip} x)\big),

        then compressing ``S``, and keeping one column of each pair that this
        makes equal (about half the columns). This gives a linear model the
        benefit of left-right flip augmentation (and of averaging its
        predictions over flips at test time) without flipping or doubling
        the data: for a linear model with a convex loss and a mirror
        invariant penalty (e.g. L2) trained on the images and their mirrors,
        the optimum (one of them, if not unique) has weights that are
        themselves mirror symmetric (``w = w[perm]``, below), so it only
        ever sees ``S(x)``. This equivalence is exact for
        ``compression='none'``; with a compression the averaged values are
        compressed, ``c(S(x))``, which is as invariant but not identical to
        the mean ``(c(F(x)) + c(F(flip x))) / 2`` that augmentation on
        compressed features would see.

        No flipped image is filtered: mirroring maps the kernel of
        orientation ``theta`` to the one of orientation ``pi - theta`` exactly
        (any ``sigma_x``, ``sigma_y``, ``offset``; orientation ``pi`` is, up
        to a unit phase, the complex conjugate of orientation 0, which leaves
        ``|r|`` and ``|r|^2`` of a real image unchanged), every ``mode`` is
        mirror symmetric and the column cells ``b`` and ``gw - 1 - b`` are
        mirror images. So ``F(flip x) = F(x)[:, perm]`` for a permutation
        ``perm`` of the columns that maps (orientation ``theta``, cell
        ``(a, b)``) to (``pi - theta``, ``(a, gw - 1 - b)``), and the cascade
        path ``(i, j)`` of ``order=2`` to ``(mirror(i), mirror(j))``;
        channels, ``pool_stats`` and ``contrast_normalization`` are unchanged
        by the flip. The output keeps, for each orbit ``{k, perm[k]}``, the
        column ``(F[:, k] + F[:, perm[k]]) / 2`` with ``k <= perm[k]``, in the
        original column order (see ``flip_pairs_``). With a full set of
        orientations (``n_orientations``) and an even ``gw`` every orbit has
        two columns and the output exactly half of them.

        Needs ``nonlinearity`` 'modulus' or 'squared' (for the signed
        responses 'real', 'imag', 'rectified' the conjugation at
        ``theta = 0`` and the phase ``offset`` break the identity),
        ``thetas`` closed under ``theta -> pi - theta`` (mod ``pi``, to 1e-9
        rad) and mirror symmetric column cells, i.e. an image width ``W``
        divisible by ``pool_grid_[1]``; otherwise :meth:`fit` raises a
        ValueError. With ``resolution='full'`` the output is exactly (to
        rounding) invariant: ``transform(flip X) == transform(X)``. With
        ``resolution='auto'`` the coarse spectral windows of a kernel and of
        its mirror are not exact mirror images, so the features of ``X`` and
        ``flip X`` agree only to about the accuracy of 'auto' itself (to
        under 1e-3, relative in norm, in our checks; the tests require
        1e-2); the output is still
        ``(F + F[:, perm]) / 2`` of the computed ``F``.
    dtype : {'float32', 'float64'} or None, default='float32'
        Output dtype; ``None`` keeps float64 input as float64 and gives
        float32 otherwise. Float32 output is computed in complex64.
    batch_size : int, default=256
        Images processed at once; peak memory is the output plus a working
        set that grows with ``batch_size`` but not with ``n_samples``.
    n_jobs : int, default=None
        Threads: with more than one batch of images, up to ``n_jobs`` batches
        are transformed at once in a thread pool (NumPy and :mod:`scipy.fft`
        release the GIL, and each batch writes its
        own rows of the output, so nothing is copied); with a single batch,
        the threads of :mod:`scipy.fft` (its ``workers`` argument). The
        matrix products run with one BLAS thread during ``transform``
        (threads never nest, and the features are the same bit for bit
        whatever ``n_jobs``, ``batch_size`` and the order of the rows).
        ``None`` means 1, -1 all cores. Peak memory grows with ``n_jobs x
        batch_size``.

    Attributes
    ----------
    kernels_ : list of ndarray
        The complex kernels of the bank (frequency-major, then orientation).
    kernel_params_ : list of dict
        Parameters of each kernel (``frequency``, ``theta``, ``bandwidth``,
        ``sigma_x``, ``sigma_y``, ``n_stds``, ``offset``, ``shape``).
    image_shape_ : tuple of int
        The ``(H, W, C)`` image shape used.
    pool_grid_ : tuple of int
        The pooling grid used (``pool_grid`` clipped to the image size).
    cascade_pairs_ : list of tuple of int
        For ``order=2``, the ``(i, j)`` indices into ``kernels_`` of each
        second-order path ``|I * g_i| * g_j``, in output order; empty for
        ``order=1``.
    channel_names_ : list of str
        Names of the filtered channels.
    fft_shape_ : tuple of int
        Size of the periodic buffer that the FFTs use.
    strides_ : list of tuple of int
        Per kernel, the ``(row, column)`` subsampling used by
        ``resolution='auto'`` (``(1, 1)`` = full resolution).
    flip_pairs_ : ndarray of shape (n_features_out, 2) or None
        For ``flip_invariant=True``, output column ``m`` is the mean of the
        columns ``flip_pairs_[m, 0]`` (the representative, the smaller index)
        and ``flip_pairs_[m, 1]`` (its mirror) of the layout without
        ``flip_invariant`` (equal for a column that is its own mirror);
        ``None`` otherwise.
    n_features_in_ : int
        Number of features seen during :term:`fit`.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit` (string column names only).

    Notes
    -----
    Every parameter is read by :meth:`fit`, which checks them all (together
    with the shape of ``X``) and stores what :meth:`transform` uses: a
    parameter changed with :meth:`set_params` afterwards, ``n_jobs`` and
    ``batch_size`` included, takes effect at the next ``fit``. Kernels are
    cut to what the image and ``mode`` can use, and ``fit`` refuses a bank
    whose kernels and spectra would need more than 4 GiB.

    Input values: float ``X`` is used as is (any scale). Integer ``X`` is
    read as 8-bit images: values must lie in ``[0, 255]`` and are scaled by
    ``1 / 255`` (so ``uint8`` and ``float`` images in ``[0, 1]`` give the same
    features); boolean ``X`` becomes 0. / 1. NaN, infinity and sparse
    matrices are rejected. :meth:`transform` does not modify ``X`` or the
    estimator, so it may be called from several threads.

    The output has ``n_filters x n_parts x n_channels x gh x gw x n_stats``
    columns in that (C) order (none with ``first_order=False``), with
    ``n_parts = 2`` for 'rectified' and 1 otherwise, then for ``order=2`` the ``n_pairs x n_channels x gh x gw x
    n_stats`` cascade columns; with ``flip_invariant=True`` only the columns
    ``flip_pairs_[:, 0]`` of this layout remain (each averaged with its
    mirror). :meth:`get_feature_names_out` names them.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_gabor import GaborTransformer
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randint(0, 256, size=(5, 16 * 16 * 3)).astype(np.uint8)
    >>> gt = GaborTransformer(image_shape=(16, 16, 3), frequencies=(0.1, 0.3),
    ...                       n_orientations=4, pool_grid=(2, 2))
    >>> F = gt.fit_transform(X)
    >>> F.shape, F.dtype  # 8 filters x 3 channels x 4 cells x 1 statistic
    ((5, 96), dtype('float32'))
    >>> gt.get_feature_names_out()[0]
    'f0.1_theta0_ch0_cell0-0_mean'
    """

    _parameter_constraints: dict = {
        "image_shape": ["array-like", None],
        "frequencies": [Interval(Real, 0, 0.5, closed="right"), "array-like"],
        "n_orientations": [Interval(Integral, 1, None, closed="left")],
        "thetas": ["array-like", None],
        "bandwidth": [Interval(Real, 0, None, closed="neither")],
        "sigma_x": [Interval(Real, 0, None, closed="neither"), None],
        "sigma_y": [Interval(Real, 0, None, closed="neither"), None],
        "n_stds": [Interval(Real, 0, None, closed="neither")],
        "offset": [Interval(Real, None, None, closed="neither")],
        "nonlinearity": [StrOptions(set(_NONLINEARITIES))],
        "mode": [StrOptions({"reflect", "constant", "wrap"})],
        "color": [StrOptions({"per_channel", "gray", "opponent"})],
        "pool_grid": ["array-like"],
        "pool_stats": [StrOptions(set(STATS)), "array-like"],
        "compression": [StrOptions({"none", "log1p", "sqrt"})],
        "contrast_normalization": ["boolean"],
        "resolution": [StrOptions({"auto", "full"})],
        "order": [Interval(Integral, 1, 2, closed="both")],
        "first_order": ["boolean"],
        "cascade_frequencies": ["array-like", None],
        "flip_invariant": ["boolean"],
        "dtype": [StrOptions({"float32", "float64"}), None],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "n_jobs": [
            Interval(Integral, 1, None, closed="left"),
            Interval(Integral, None, -1, closed="right"),
            None,
        ],
    }

    def __init__(
        self,
        image_shape=None,
        *,
        frequencies=(0.05, 0.1, 0.2, 0.4),
        n_orientations=8,
        thetas=None,
        bandwidth=1.0,
        sigma_x=None,
        sigma_y=None,
        n_stds=3.0,
        offset=0.0,
        nonlinearity="modulus",
        mode="reflect",
        color="per_channel",
        pool_grid=(4, 4),
        pool_stats=("mean",),
        compression="none",
        contrast_normalization=False,
        resolution="auto",
        order=1,
        first_order=True,
        cascade_frequencies=None,
        flip_invariant=False,
        dtype="float32",
        batch_size=256,
        n_jobs=None,
    ):
        self.image_shape = image_shape
        self.frequencies = frequencies
        self.n_orientations = n_orientations
        self.thetas = thetas
        self.bandwidth = bandwidth
        self.sigma_x = sigma_x
        self.sigma_y = sigma_y
        self.n_stds = n_stds
        self.offset = offset
        self.nonlinearity = nonlinearity
        self.mode = mode
        self.color = color
        self.pool_grid = pool_grid
        self.pool_stats = pool_stats
        self.compression = compression
        self.contrast_normalization = contrast_normalization
        self.resolution = resolution
        self.order = order
        self.first_order = first_order
        self.cascade_frequencies = cascade_frequencies
        self.flip_invariant = flip_invariant
        self.dtype = dtype
        self.batch_size = batch_size
        self.n_jobs = n_jobs

    # ------------------------------------------------------------------ input
    # -------------------------------------------------------------------- fit
    @_fit_context(prefer_skip_nested_validation=True)
    @restore_on_failure
    def fit(self, X, y=None):
        """Validate the parameters and ``X`` and build the filter bank.

        Every parameter is read here: changing one with :meth:`set_params`
        has no effect on :meth:`transform` until the next ``fit``.

        Parameters
        ----------
        X : array-like of shape (n_samples, H * W * C)
            Flattened images (only its shape is used).
        y : None
            Ignored.

        Returns
        -------
        self : GaborTransformer
            The fitted transformer.
        """
        X = validate_images(self, X, reset=True)
        config = resolve_config(self, X.shape[1])
        features, kernels = build_features(
            config.params, config.image_shape, mode=self.mode,
            nonlinearity=self.nonlinearity, color=config.color, channels=config.channels,
            contrast_normalization=self.contrast_normalization, grid=config.grid,
            stats=config.stats, compression=self.compression, orders=config.orders,
            resolution=self.resolution, mirror=config.mirror, cascade=config.cascade,
        )
        strides = [(1, 1)] * len(config.params)
        for k, s in zip(features.layer_one, features.first.strides):
            strides[k] = s
        self.kernels_ = kernels
        self.kernel_params_ = config.params
        self.image_shape_ = config.image_shape
        self.pool_grid_ = config.grid
        self.channel_names_ = config.channels
        self.fft_shape_ = features.first.fft_shape
        self.strides_ = strides
        self.cascade_pairs_ = features.layout.pairs
        self.flip_pairs_ = features.layout.flip
        self._config = config
        self._features = features
        return self

    # -------------------------------------------------------------- transform
    def transform(self, X):
        """Gabor features of the images in ``X``.

        Uses only what :meth:`fit` stored (parameters changed since have no
        effect until the next ``fit``).

        Parameters
        ----------
        X : array-like of shape (n_samples, H * W * C)
            Flattened images (see the class docstring for dtypes and scale).

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_features_out)
            The pooled features, float32 unless ``dtype`` says otherwise.
        """
        check_is_fitted(self)
        X = validate_images(self, X, reset=False)
        config = self._config
        return self._features.transform(
            X, config.out_dtype(X.dtype), config.batch_size, effective_threads(config.n_jobs)
        )

    # ------------------------------------------------------------ names, tags
    def get_feature_names_out(self, input_features=None):
        """Names of the output features.

        Each name is ``f{frequency}_theta{degrees}[_{part}]_{channel}_cell{row}-{col}_{stat}``,
        e.g. ``'f0.1_theta22.5_ch2_cell0-3_mean'``; ``part`` ('re+' or 'im+')
        appears only for ``nonlinearity='rectified'``. Second-order paths
        (``order=2``) are named
        ``f{f1}_theta{deg1}_f{f2}_theta{deg2}_{channel}_cell{row}-{col}_{stat}``.
        With ``flip_invariant=True`` each kept column is named after its
        representative (``flip_pairs_[:, 0]``) with the suffix ``_lrmean``
        (left-right mean), e.g. ``'f0.1_theta22.5_ch2_cell0-0_mean_lrmean'``
        is the mean of that feature and of its mirror
        ``'f0.1_theta157.5_ch2_cell0-3_mean'`` (``pool_grid=(4, 4)``).

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Only checked against the input feature names seen in :term:`fit`.

        Returns
        -------
        feature_names_out : ndarray of str objects
            The output feature names.
        """
        check_is_fitted(self)
        _check_feature_names_in(self, input_features, generate_names=False)
        names = self._features.layout.names(kernel_labels(self.kernel_params_))
        return np.asarray(names, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        if self.dtype is None:
            tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        else:
            tags.transformer_tags.preserves_dtype = [self.dtype]
        return tags
