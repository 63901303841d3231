"""Multinomial logistic (softmax) regression trained by gradient descent.

The model, for ``T`` classes and an input ``x`` with ``d`` features::

    o = W x + b                                  (T hyperplanes: one score per class)
    p = softmax(o),   p_t = exp(o_t) / sum_k exp(o_k)
    L(W, b) = (1/S) sum_s H(onehot(y_s), p_s) + (alpha/2) ||W||^2
            = -(1/S) sum_s log p_{s, y_s}    + (alpha/2) ||W||^2

and its gradient, with ``G = P - Y`` (probabilities minus one-hot targets)::

    dL/dW = (1/S) G^T X + alpha W,      dL/db = (1/S) sum_s G_s

Training is gradient descent ``theta <- theta - learning_rate * grad L(theta)``;
solver='pgd' preconditions it, ``theta <- theta - learning_rate * M^{-1} grad L(theta)``,
with ``M = 1/2 X~^T D X~ + alpha I`` (``X~ = [X, 1]``), a bound on the Hessian;
solver='apgd' adds Nesterov's extrapolation to that step, with adaptive restart.

This module holds the estimator: parameters, data checks, the fitted
attributes and the prediction methods, all of which read ``coef_`` and
``intercept_``. The loss, the gradient and the epoch loop are in
``_training.py``, the update rules, schedules and training state in
``_optim.py``.
"""

import copy
import numbers
import warnings
from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state, compute_class_weight
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.multiclass import check_classification_targets, unique_labels
from sklearn.utils.validation import check_is_fitted, validate_data

from ._optim import (
    MIN_LEARNING_RATE,
    _Schedule,
    _TrainingState,
    blas_threads_for,
    make_optimizer,
    max_iter_message,
)
from ._training import (
    _check_training_weights,
    _normalized_weights,
    _Run,
    _scaled,
    _scores_overflow,
    _validation_split,
)
from .exceptions import DivergenceError
from .utils._atomic import restore_on_failure
from .utils._estimator import SklearnGaborMixin, check_no_array_api_dispatch
from .utils._sklearn_compat import (
    Interval,
    StrOptions,
    _check_sample_weight,
    _fit_context,
)


def _log_softmax(O):
    """Row-wise ``log softmax(O)`` by the log-sum-exp trick (no overflow).

    ``log p_t = o_t - m - log sum_k exp(o_k - m)`` with ``m = max_k o_k``.
    """
    O = O - O.max(axis=1, keepdims=True)
    with np.errstate(under="ignore"):
        O -= np.log(np.exp(O).sum(axis=1, keepdims=True))
    return O


def _softmax(O):
    """Row-wise ``softmax(O) = exp(o_t) / sum_k exp(o_k)``, computed stably."""
    with np.errstate(under="ignore"):
        return np.exp(_log_softmax(O))


class GDSoftmaxClassifier(ClassifierMixin, SklearnGaborMixin, BaseEstimator):
    r"""Softmax (multinomial logistic) regression trained by gradient descent.

    A linear model with one hyperplane per class, ``o = W x + b``, turned into
    class probabilities by the softmax, ``p = softmax(o)``, and fitted by
    minimizing the mean cross-entropy against one-hot targets plus an L2
    penalty,

    .. math::

        L(W, b) = \frac{1}{S} \sum_{s=1}^{S} H(\mathrm{onehot}(y_s), p_s)
                  + \frac{\alpha}{2} \lVert W \rVert^2,
        \qquad H(t, p) = -\sum_k t_k \log p_k,

    with gradient descent :math:`\theta \leftarrow \theta - \eta \nabla L(\theta)`
    where :math:`\eta` is ``learning_rate`` (``solver='gd'``). The gradient is
    :math:`\nabla_W L = \frac{1}{S} (P - Y)^\top X + \alpha W` and
    :math:`\nabla_b L = \frac{1}{S} \sum_s (p_s - \mathrm{onehot}(y_s))`.
    The default solver, 'apgd', takes the same gradient but rescales the step
    by a fixed bound :math:`M` on the Hessian,
    :math:`\theta \leftarrow \theta - \eta M^{-1} \nabla L(\theta)`, from a
    point extrapolated along the last move (Nesterov's method): on correlated
    features such as image pixels it reaches the optimum in tens of epochs
    where plain gradient descent needs thousands.

    Parameters
    ----------
    learning_rate : float or 'auto', default='auto'
        The step size :math:`\eta > 0` of the update. 'auto' is 1.0 for the
        preconditioned solvers 'pgd' and 'apgd' (the step that minimizes the
        quadratic upper bound of the loss) and 0.5 for the others. Too large a value makes
        the loss blow up; with ``learning_rate_schedule='constant'`` or
        ``'invscaling'`` that raises :class:`~sklearn_gabor.exceptions.DivergenceError`
        (a ``ValueError``), and ``'adaptive'`` instead undoes the step and
        divides the rate by 5.

    learning_rate_schedule : {'constant', 'invscaling', 'adaptive'}, default='adaptive'
        How the step size changes over epochs ``t``:

        - 'constant': :math:`\eta_t = \eta`.
        - 'invscaling': :math:`\eta_t = \eta / (t + 1)^{\text{power\_t}}`.
        - 'adaptive': :math:`\eta_t = \eta` as long as training makes progress.
          A step that increases the loss (solvers 'gd', 'pgd', 'apgd') or makes it non-finite
          is undone, and each setback, including ``n_iter_no_change``
          epochs without improvement for the stochastic solvers, divides the
          rate by 5. Training stops when it falls below 1e-6. Losses are
          compared only within one call: ``partial_fit`` never compares its
          chunk's loss with another chunk's, so in streaming the rate shrinks
          only on overflow.

    solver : {'gd', 'pgd', 'apgd', 'sgd', 'adam'}, default='apgd'
        - 'gd': full-batch gradient descent, exactly the update above; one
          update per epoch.
        - 'pgd': full-batch *preconditioned* gradient descent,
          :math:`\theta \leftarrow \theta - \eta M^{-1} \nabla L(\theta)`,
          one update per epoch, with the fixed matrix
          :math:`M = \tfrac{1}{2} \tilde X^\top D \tilde X + \alpha I`
          (:math:`\tilde X = [X, 1]`, :math:`D` the normalized sample
          weights, no penalty on the intercept), applied to each class's row
          :math:`(w_t, b_t)`. :math:`M` bounds the Hessian of :math:`L`
          everywhere (Böhning, 1992), so with ``learning_rate=1.0`` every
          step minimizes a quadratic upper bound of the loss and never
          increases it. Correlated features (pixels) make plain gradient
          descent slow; this step undoes that, and reaches the optimum in
          tens of epochs where 'gd' needs thousands. It costs one
          ``(d + 1) x (d + 1)`` matrix product and Cholesky factorization
          per ``fit`` (or ``partial_fit`` call), :math:`O(S d^2 + d^3)`, then
          :math:`O(T d^2)` per epoch. With more features than samples (and
          ``alpha > 0``) the same step is computed from the ``S x S`` Gram
          matrix instead, :math:`O(S^2 d + S^3)` once and two more products
          with ``X`` per epoch. When ``n_features`` exceeds 10000 and
          ``n_samples`` exceeds 1024, the primal factor does not fit in memory
          and the Gram matrix costs more than the following: the weighted, centred
          covariance in :math:`M` is replaced by a rank-256 randomized
          Nyström approximation (one power iteration, a fixed seed, so
          ``fit`` stays deterministic): its 256 eigenpairs, close to the
          leading ones, and the smallest kept eigenvalue for the rest. Building
          it costs two passes over ``X``, :math:`O(S d k)`, and each epoch
          adds :math:`O(T d k)` (:math:`k = 256`); the bound is then
          approximate, and with the default 'adaptive' schedule a step
          that raises the loss is undone and divides the rate by 5.
          ``learning_rate='auto'`` is 1.0.
        - 'apgd': 'pgd' with Nesterov's extrapolation (FISTA, Beck &
          Teboulle 2009), one update per epoch. The gradient is taken at
          :math:`y_k`, the plain step gives
          :math:`x_{k+1} = y_k - \eta M^{-1} \nabla L(y_k)`, and the next
          point is :math:`y_{k+1} = x_{k+1} + \beta_k (x_{k+1} - x_k)` with
          :math:`\beta_k = (t_k - 1) / t_{k+1}`,
          :math:`t_{k+1} = (1 + \sqrt{1 + 4 t_k^2}) / 2`, :math:`t_0 = 1`.
          The momentum restarts (:math:`t = 1`) when a step points uphill of
          the last move, :math:`\nabla L(y_k)^\top (x_{k+1} - x_k) > 0`
          (O'Donoghue & Candès, 2015), and when the loss at an extrapolated
          point is above the loss before it, training goes back to the last
          plain step :math:`x_{k+1}`; the recorded loss can therefore rise
          from one epoch to the next. Same cost per epoch as 'pgd' and the
          same preconditioner, fewer epochs when the loss is poorly
          conditioned even after preconditioning (many correlated features,
          small ``alpha``). The momentum lives within one call: each
          ``partial_fit`` call makes one plain 'pgd' step. The default;
          ``learning_rate='auto'`` is 1.0.
        - 'sgd': mini-batch stochastic gradient descent with ``momentum``
          (Nesterov's if ``nesterovs_momentum``).
        - 'adam': mini-batch Adam.

    alpha : float, default=1e-4
        L2 penalty strength :math:`\alpha \ge 0` on ``W`` (not on ``b``).

    fit_intercept : bool, default=True
        Whether to learn the intercepts ``b``; if False, ``b = 0``.

    batch_size : int or 'auto', default='auto'
        Mini-batch size for 'sgd' and 'adam' ('auto' is ``min(200, n_samples)``).
        Ignored by 'gd', 'pgd' and 'apgd', which always use the full batch.

    max_iter : int, default=200
        Maximum number of epochs (passes over the training data).

    tol : float, default=1e-4
        Stopping tolerance. For 'gd', 'pgd' and 'apgd', training stops when the
        largest entry of the gradient,
        :math:`\lVert \nabla L \rVert_\infty = \max_i |\partial L / \partial \theta_i|`,
        falls below ``tol`` (the ground feels flat): the rule of scikit-learn's
        'lbfgs' (its ``gtol``), on the same mean loss, so that ``tol`` means
        what it means in :class:`~sklearn.linear_model.LogisticRegression`.
        For 'sgd' and 'adam', it stops when the epoch loss (or the
        validation accuracy with ``early_stopping``) has not improved by at
        least ``tol`` for ``n_iter_no_change`` consecutive epochs.

    n_iter_no_change : int, default=10
        Number of epochs without improvement tolerated (see ``tol``).

    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data (stratified
        when every class has at least 2 samples), track the validation
        accuracy after each epoch, stop when it has not improved by ``tol``
        for ``n_iter_no_change`` epochs, and restore the weights with the best
        validation accuracy. The split is made before the sample weights and
        classes are checked: a training part without weight, or without a
        class that the data has, raises a ``ValueError``.

    validation_fraction : float, default=0.1
        Fraction of the training data held out when ``early_stopping=True``.

    momentum : float, default=0.9
        Momentum for solver='sgd', in [0, 1).

    nesterovs_momentum : bool, default=True
        Whether to use Nesterov's momentum with solver='sgd'.

    beta_1, beta_2 : float, default=0.9, 0.999
        Exponential decay rates of Adam's moment estimates, in [0, 1).

    epsilon : float, default=1e-8
        Adam's numerical-stability constant.

    power_t : float, default=0.5
        Exponent of the 'invscaling' schedule, in [0, 1]. Above 1 the rates
        :math:`\eta / (t + 1)^{\text{power\_t}}` sum to a finite total, which
        bounds how far training can move the weights whatever ``max_iter``.

    class_weight : dict, 'balanced' or None, default=None
        Weights ``{class: weight}`` multiplied into the sample weights;
        'balanced' uses ``n_samples / (n_classes * bincount(y))``.

    warm_start : bool, default=False
        Start ``fit`` from the previous ``coef_`` and ``intercept_``. The
        optimizer (momentum, Adam's moments), the schedule (at
        ``learning_rate``) and the curves start anew, as in a first ``fit``;
        ``partial_fit`` is the way to continue them.

    shuffle : bool, default=True
        Shuffle the samples at each epoch ('sgd' and 'adam').

    random_state : int, RandomState instance or None, default=None
        Controls the shuffling and the validation split. The weights start at
        zero, so 'gd', 'pgd' and 'apgd' without early stopping are fully deterministic.

    verbose : int, default=0
        If > 0, print one line per epoch: epoch, loss, largest gradient entry (for
        'gd', 'pgd' and 'apgd'), learning rate and elapsed time.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        For ``T >= 3`` classes, the weight matrix ``W`` (one row per class).
        For two classes, the single row ``w_1 - w_0`` (see Notes), as
        :class:`~sklearn.linear_model.LogisticRegression` reports it.
    intercept_ : ndarray of shape (1,) or (n_classes,)
        ``b`` (or ``b_1 - b_0`` for two classes).
    n_iter_ : int
        Number of epochs run by the last ``fit`` and the ``partial_fit``
        calls after it.
    t_ : int
        Number of training samples seen over those epochs.
    loss_ : float
        Loss of the last epoch.
    loss_curve_ : list of float
        Loss per epoch (of the last ``fit`` and the ``partial_fit`` calls
        after it): for 'gd', 'pgd' and 'apgd' the loss at the start of each
        epoch (for 'apgd', at the point where the gradient is taken); for 'sgd'
        and 'adam' the weighted mean of the mini-batch losses.
    grad_norm_curve_ : list of float
        Largest absolute gradient entry per epoch, the norm that ``tol``
        bounds (solvers 'gd', 'pgd' and 'apgd' only).
    validation_scores_ : list of float
        Validation accuracy per epoch (``early_stopping=True`` only).
    best_validation_score_ : float
        Best validation accuracy (``early_stopping=True`` only).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    sklearn.linear_model.LogisticRegression : the same convex model, fitted by
        quasi-Newton solvers; ``C = 1 / (alpha * n_samples)`` for T >= 3 classes
        and ``C = 2 / (alpha * n_samples)`` for two classes.
    sklearn.neural_network.MLPClassifier : with ``hidden_layer_sizes=()``, a
        softmax model trained by SGD or Adam.

    Notes
    -----
    **Two classes.** The softmax of two scores depends only on their
    difference: :math:`p_1 = \sigma((w_1 - w_0)^\top x + b_1 - b_0)` with
    the logistic sigmoid :math:`\sigma`. The estimator trains both rows
    ``w_0, w_1`` (the gradient-descent iterates from zero keep
    ``w_0 = -w_1``), and reports the single hyperplane ``coef_ = w_1 - w_0``,
    ``intercept_ = b_1 - b_0``; ``decision_function`` returns the log-odds
    :math:`\log(p_1 / p_0)`, positive for ``classes_[1]``. Because
    :math:`\lVert w_0 \rVert^2 + \lVert w_1 \rVert^2 = \lVert w \rVert^2 / 2`
    when ``w_0 = -w_1``, the penalty on ``w = w_1 - w_0`` is :math:`\alpha/4`.

    **Sample weights** are normalized to sum to one, so ``(1/S) sum_s`` becomes
    ``sum_s w_s / sum_s w_s``: an integer weight is the same as repeating the
    sample. The normalization is done in float64 before the weights are cast
    to the dtype of ``X``, so only their ratios matter (``1e-50`` or ``1e39``
    each on float32 ``X`` is the same as 1).

    **Weights.** ``coef_`` and ``intercept_`` are the model: every prediction
    method reads them, and ``warm_start`` or ``partial_fit`` continues from
    them (for two classes from ``W = [-coef_ / 2, coef_ / 2]``).

    **Preconditioned descent** ('pgd'). The Hessian of the loss is
    :math:`\nabla^2 L = \sum_s w_s (\mathrm{diag}(p_s) - p_s p_s^\top)
    \otimes \tilde x_s \tilde x_s^\top + \alpha I`, and the eigenvalues of
    :math:`\mathrm{diag}(p) - p p^\top` never exceed 1/2, so
    :math:`\nabla^2 L \preceq M = \tfrac{1}{2} \tilde X^\top D \tilde X + \alpha I`
    (per class). Plain gradient descent converges at a rate set by the
    condition number of the Hessian, which for standardized CIFAR-10 pixels
    is about :math:`10^4`; preconditioning by the fixed :math:`M` leaves
    only the ratio between the true curvature and its bound.

    **Accelerated descent** ('apgd'). Near the optimum of a weakly penalized
    problem the probabilities are confident, the true curvature falls far
    below the bound, and 'pgd' slows to a linear rate set by that ratio
    :math:`\kappa`; Nesterov's extrapolation needs on the order of
    :math:`\sqrt{\kappa}` epochs instead of :math:`\kappa`. The restarts drop
    the momentum whenever it overshoots, where the plain accelerated method
    would oscillate around the optimum.

    References
    ----------
    D. Böhning, "Multinomial logistic regression algorithm", Annals of the
    Institute of Statistical Mathematics 44 (1992) 197-200.

    A. Beck and M. Teboulle, "A fast iterative shrinkage-thresholding
    algorithm for linear inverse problems", SIAM Journal on Imaging Sciences
    2 (2009) 183-202.

    B. O'Donoghue and E. Candès, "Adaptive restart for accelerated gradient
    schemes", Foundations of Computational Mathematics 15 (2015) 715-732.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn_gabor import GDSoftmaxClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = make_pipeline(StandardScaler(), GDSoftmaxClassifier(max_iter=500))
    >>> clf.fit(X, y).score(X, y) > 0.9
    True
    """

    _parameter_constraints: ClassVar[dict] = {
        "learning_rate": [Interval(numbers.Real, 0, None, closed="neither"), StrOptions({"auto"})],
        "learning_rate_schedule": [StrOptions({"constant", "invscaling", "adaptive"})],
        "solver": [StrOptions({"gd", "pgd", "apgd", "sgd", "adam"})],
        "alpha": [Interval(numbers.Real, 0, None, closed="left")],
        "fit_intercept": ["boolean"],
        "batch_size": [StrOptions({"auto"}), Interval(numbers.Integral, 1, None, closed="left")],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "n_iter_no_change": [Interval(numbers.Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(numbers.Real, 0, 1, closed="neither")],
        "momentum": [Interval(numbers.Real, 0, 1, closed="left")],
        "nesterovs_momentum": ["boolean"],
        "beta_1": [Interval(numbers.Real, 0, 1, closed="left")],
        "beta_2": [Interval(numbers.Real, 0, 1, closed="left")],
        "epsilon": [Interval(numbers.Real, 0, None, closed="neither")],
        "power_t": [Interval(numbers.Real, 0, 1, closed="both")],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "warm_start": ["boolean"],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        learning_rate="auto",
        *,
        learning_rate_schedule="adaptive",
        solver="apgd",
        alpha=1e-4,
        fit_intercept=True,
        batch_size="auto",
        max_iter=200,
        tol=1e-4,
        n_iter_no_change=10,
        early_stopping=False,
        validation_fraction=0.1,
        momentum=0.9,
        nesterovs_momentum=True,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        power_t=0.5,
        class_weight=None,
        warm_start=False,
        shuffle=True,
        random_state=None,
        verbose=0,
    ):
        self.learning_rate = learning_rate
        self.learning_rate_schedule = learning_rate_schedule
        self.solver = solver
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.power_t = power_t
        self.class_weight = class_weight
        self.warm_start = warm_start
        self.shuffle = shuffle
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=True)
    @restore_on_failure
    def fit(self, X, y, sample_weight=None):
        """Fit the model by gradient descent.

        Every call starts a new optimizer and schedule at ``learning_rate``;
        with ``warm_start=True`` the weights start from ``coef_`` and
        ``intercept_``. Interrupting it (Ctrl-C) keeps the weights reached so
        far, with a warning.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data; float32 stays float32, CSR stays sparse.
        y : array-like of shape (n_samples,)
            Class labels (any hashable values).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; normalized to sum to one in the loss.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        self._more_validate_params()
        warm = self.warm_start and hasattr(self, "coef_")
        return self._fit(X, y, sample_weight, None, max_iter=self.max_iter, warm=warm, incremental=False)

    @_fit_context(prefer_skip_nested_validation=True)
    @restore_on_failure
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Run one epoch of the solver on ``(X, y)``, continuing the training so far.

        The epoch count, the optimizer's moments and the schedule's current
        rate carry over from the previous call; nothing is compared with the
        previous call's loss, which was measured on other data. So the
        'adaptive' schedule shrinks the rate only when a mini-batch step of
        this call overflows ('sgd', 'adam'; 'gd', 'pgd' and 'apgd', with no
        step of their own to undo, raise ``DivergenceError``). ``N`` calls on
        the same data with ``shuffle=False`` therefore give the same model as
        ``fit(X, y)`` with ``max_iter=N`` and ``tol=0`` only as long as ``fit``
        neither undoes a step ('gd'/'pgd' with 'adaptive') nor counts
        ``n_iter_no_change`` epochs without improvement ('sgd'/'adam', which
        then stop or shrink the rate where ``partial_fit`` goes on).

        With 'pgd' and 'apgd' each call builds the preconditioner from its own
        rows and takes the full step on them, so on small chunks the weights
        follow each chunk; 'gd' or 'sgd' suit long streams better (see the
        user guide).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        classes : array-like of shape (n_classes,), default=None
            All the classes that can appear; required on the first call.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : object
        """
        self._more_validate_params(for_partial_fit=True)
        first = not hasattr(self, "coef_")
        if first and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit.")
        if classes is not None:
            classes = unique_labels(classes)
            if not first and not np.array_equal(classes, self.classes_):
                raise ValueError(
                    f"`classes={classes.tolist()}` is not the same as on the first call "
                    f"to partial_fit, which was {self.classes_.tolist()}."
                )
        return self._fit(X, y, sample_weight, classes, max_iter=1, warm=not first, incremental=True)

    # ----------------------------------------------------------- internals
    def _more_validate_params(self, for_partial_fit=False):
        """Rules that involve several parameters (single ones: ``_parameter_constraints``)."""
        if for_partial_fit and self.early_stopping:
            raise ValueError("early_stopping=True is not supported by partial_fit; use fit.")
        if for_partial_fit and self.class_weight == "balanced":
            raise ValueError(
                "class_weight='balanced' is not supported by partial_fit: the class "
                "frequencies of the whole data are unknown. Pass a dict of weights."
            )

    def _validate_train(self, X, y, sample_weight, reset):
        check_no_array_api_dispatch(self)
        X, y = validate_data(
            self, X, y, accept_sparse="csr", dtype=[np.float64, np.float32], reset=reset
        )
        check_classification_targets(y)
        # float64 whatever X's dtype: weights like 1e-50 or 1e39 are rescaled
        # before they are cast (see _normalized_weights)
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=np.float64, ensure_non_negative=True
        )
        return X, y, sample_weight

    def _encode_targets(self, y, classes, warm):
        """The classes and each sample's class index."""
        if warm:
            classes = self.classes_
        elif classes is None:
            classes = np.unique(y)
        unknown = np.setdiff1d(np.unique(y), classes)
        if unknown.size:
            raise ValueError(
                f"y contains classes {unknown.tolist()} not seen in the first call "
                f"(classes_={classes.tolist()})."
            )
        if len(classes) < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes in the "
                f"data, but the data contains only one class: {classes.tolist()[0]!r}."
            )
        return classes, np.searchsorted(classes, y)

    def _weighted(self, sample_weight, classes, y, y_idx):
        """Sample weights times class weights, in float64, scaled to a maximum of 1."""
        sw = _scaled(sample_weight)
        if self.class_weight is not None:
            cw = compute_class_weight(self.class_weight, classes=classes, y=y)
            if not np.all(np.isfinite(cw) & (cw >= 0)):
                raise ValueError(
                    "class_weight values must be finite and >= 0 (a negative weight "
                    "rewards misclassifying the class); got "
                    f"{dict(zip(classes.tolist(), cw.tolist()))}."
                )
            sw = _scaled(sw * _scaled(cw)[y_idx])
        return sw

    def _fit(self, X, y, sample_weight, classes, *, max_iter, warm, incremental):
        X, y, sample_weight = self._validate_train(X, y, sample_weight, reset=not warm)
        classes, y_idx = self._encode_targets(y, classes, warm)
        sw = self._weighted(sample_weight, classes, y, y_idx)
        X_val = y_val = None
        if self.early_stopping and not incremental:
            # split first: the weight and class checks below are about what trains
            (X, y_idx, sw), (X_val, y_val) = _validation_split(
                X, y_idx, sw, classes, self.validation_fraction, self.random_state
            )
        _check_training_weights(sw, y_idx, len(classes), incremental)
        W, b = self._start_weights(len(classes), X.shape[1], X.dtype, warm)
        if incremental and hasattr(self, "_training_state"):
            state = self._continued_state(W, b)
        else:  # fit, or coef_ from elsewhere (an older pickle): a new optimizer and schedule
            state = self._new_state(W, b)
        data = (X, y_idx, _normalized_weights(sw, X.dtype), X_val, y_val)
        with blas_threads_for(X.shape[0], X.shape[1], len(classes)):
            run = _Run(self, data, W, b, state)
            run.train(max_iter, incremental)
        # commit: only finite parameters ever reach the estimator
        if not (np.all(np.isfinite(run.W)) and np.all(np.isfinite(run.b))):
            raise DivergenceError(
                f"the parameters became non-finite; reduce learning_rate (={self._learning_rate()})."
            )
        if _scores_overflow(run.W, run.b if self.fit_intercept else None, X):
            raise DivergenceError(
                "the fitted parameters give non-finite class scores W x + b on the "
                f"training data; reduce learning_rate (={self._learning_rate()}) or "
                "standardize X."
            )
        self.classes_ = classes
        self._training_state = state
        self._set_public_attributes(run.W, run.b, state)
        self._warn_after(run.call, X, max_iter, incremental)
        return self

    def _warn_after(self, call, X, max_iter, incremental):
        if call.interrupted:
            warnings.warn(
                "Training interrupted by user; the model keeps the weights reached "
                f"after {self.n_iter_} epochs.",
                UserWarning,
            )
        elif call.gave_up is not None:
            warnings.warn(
                f"{type(self).__name__}: the adaptive schedule stopped training because "
                f"learning_rate fell below {MIN_LEARNING_RATE:g} {call.gave_up}; the model "
                "is not converged. Standardize X (e.g. StandardScaler) or lower "
                "learning_rate.",
                ConvergenceWarning,
            )
        elif call.not_converged and not incremental:
            warnings.warn(
                max_iter_message(self, X, max_iter, self.loss_curve_,
                                 getattr(self, "grad_norm_curve_", None)),
                ConvergenceWarning,
            )

    def _start_weights(self, n_classes, n_features, dtype, warm):
        """Working copies of ``W`` (one row per class) and ``b``: zeros, or from ``coef_``.

        For two classes ``coef_`` is ``w_1 - w_0`` and the iterates keep
        ``w_0 = -w_1``, so ``W = [-coef_ / 2, coef_ / 2]``.
        """
        if not warm:
            return np.zeros((n_classes, n_features), dtype=dtype), np.zeros(n_classes, dtype=dtype)
        coef = self.coef_.astype(dtype, copy=True)
        intercept = self.intercept_.astype(dtype, copy=True)
        if n_classes == 2:
            coef = np.concatenate([-coef / 2, coef / 2])
            intercept = np.concatenate([-intercept / 2, intercept / 2])
        if not self.fit_intercept:
            intercept[...] = 0
        return coef, intercept

    def _solver_params(self):
        return (
            self.solver, self.momentum, self.nesterovs_momentum,
            self.beta_1, self.beta_2, self.epsilon,
        )

    def _new_schedule(self):
        return _Schedule(self.learning_rate_schedule, self._learning_rate(), self.power_t)

    def _learning_rate(self):
        """The step size ``learning_rate`` stands for ('auto' resolved for the solver)."""
        if self.learning_rate != "auto":
            return self.learning_rate
        return 1.0 if self.solver in ("pgd", "apgd") else 0.5

    def _new_optimizer(self, W, b):
        return make_optimizer(
            self.solver, [W, b], momentum=self.momentum,
            nesterovs_momentum=self.nesterovs_momentum, beta_1=self.beta_1,
            beta_2=self.beta_2, epsilon=self.epsilon,
        )

    def _new_state(self, W, b):
        return _TrainingState(
            schedule=self._new_schedule(),
            optimizer=self._new_optimizer(W, b),
            rng=check_random_state(self.random_state),
            dtype=W.dtype,
            solver_params=self._solver_params(),
        )

    def _continued_state(self, W, b):
        """The previous call's training state, copied (a failed call must not touch it)."""
        state = copy.deepcopy(self._training_state)
        if state.dtype != W.dtype or state.solver_params != self._solver_params():
            state.optimizer = self._new_optimizer(W, b)
            state.dtype, state.solver_params = W.dtype, self._solver_params()
        schedule = state.schedule
        if (schedule.kind, schedule.learning_rate_init, schedule.power_t) != (
            self.learning_rate_schedule, self._learning_rate(), self.power_t,
        ):  # set_params between calls takes effect
            state.schedule = self._new_schedule()
        return state

    def _set_public_attributes(self, W, b, state):
        if len(self.classes_) == 2:
            self.coef_ = (W[1] - W[0])[None, :]
            self.intercept_ = np.atleast_1d(b[1] - b[0])
        else:
            self.coef_, self.intercept_ = W, b
        self.n_iter_ = state.n_iter
        self.t_ = state.t
        self.loss_curve_ = list(state.loss_curve)
        self.loss_ = self.loss_curve_[-1] if self.loss_curve_ else np.nan
        self.best_loss_ = float(np.min(self.loss_curve_)) if self.loss_curve_ else np.nan
        if self.solver in ("gd", "pgd", "apgd"):
            self.grad_norm_curve_ = list(state.grad_norm_curve)
        elif hasattr(self, "grad_norm_curve_"):
            del self.grad_norm_curve_
        if state.validation_scores:
            self.validation_scores_ = list(state.validation_scores)
            self.best_validation_score_ = max(state.validation_scores)
        else:
            for name in ("validation_scores_", "best_validation_score_"):
                if hasattr(self, name):
                    delattr(self, name)

    # ------------------------------------------------------------ predict
    def _scores(self, X):
        """``X coef_^T + intercept_``: what every prediction method starts from."""
        check_is_fitted(self)
        check_no_array_api_dispatch(self)
        X = validate_data(
            self, X, accept_sparse="csr", dtype=[np.float64, np.float32], reset=False
        )
        with np.errstate(over="ignore", invalid="ignore"):
            scores = safe_sparse_dot(X, self.coef_.T.astype(X.dtype, copy=False))
            scores += self.intercept_.astype(X.dtype, copy=False)
        if not np.all(np.isfinite(scores)):  # they would give NaN probabilities
            bad = int(np.sum(~np.all(np.isfinite(scores), axis=1)))
            raise ValueError(
                f"The class scores W x + b overflowed to inf or NaN for {bad} of "
                f"{scores.shape[0]} samples: X holds values too large for {X.dtype} "
                f"arithmetic (max |X| = {abs(X).max():.3g}). Rescale X (e.g. "
                "StandardScaler, as in training) or pass float64 X."
            )
        return scores

    def _logits(self, X):
        """One score per class; two classes: ``[0, o_1 - o_0]``, the same softmax."""
        scores = self._scores(X)
        if scores.shape[1] == 1:
            return np.hstack([np.zeros_like(scores), scores])
        return scores

    def decision_function(self, X):
        """Class scores ``o = W x + b``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            For two classes, the log-odds ``o_1 - o_0`` of ``classes_[1]``
            (positive means ``classes_[1]``); otherwise the T scores.
        """
        scores = self._scores(X)
        return scores.ravel() if scores.shape[1] == 1 else scores

    def predict(self, X):
        """Predict the class with the highest score (highest probability).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        logits = self._logits(X)  # checks that the model is fitted
        return self.classes_[np.argmax(logits, axis=1)]

    def predict_log_proba(self, X):
        """Log of the softmax probabilities, computed stably by log-sum-exp.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        return _log_softmax(self._logits(X))

    def predict_proba(self, X):
        """Softmax probabilities ``p = softmax(W x + b)``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Rows sum to one; columns follow ``classes_``.
        """
        return _softmax(self._logits(X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
