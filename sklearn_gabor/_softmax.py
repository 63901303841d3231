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
with ``M = 1/2 X~^T D X~ + alpha I`` (``X~ = [X, 1]``), a bound on the Hessian.
"""

import copy
import numbers
import time
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state, compute_class_weight, gen_batches
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.multiclass import check_classification_targets, unique_labels
from sklearn.utils.validation import check_is_fitted, validate_data

from ._optim import (
    MIN_LEARNING_RATE,
    _BoundPreconditioner,
    _Schedule,
    blas_threads_for,
    make_optimizer,
    max_iter_message,
)
from .exceptions import DivergenceError
from .utils._atomic import restore_on_failure
from .utils._estimator import SklearnGaborMixin, check_no_array_api_dispatch
from .utils._sklearn_compat import Interval, StrOptions, _check_sample_weight, _fit_context


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


def _norm(*arrays):
    """Euclidean norm of the concatenated arrays, without spurious overflow.

    ``sqrt(sum a**2)`` overflows (float32 from about 1e19) although the
    norm itself is representable; then the arrays are rescaled by their
    largest magnitude first. Non-finite entries still give a non-finite norm.
    """
    norm = np.sqrt(sum(np.vdot(a, a) for a in arrays))
    if np.isfinite(norm) or not all(np.all(np.isfinite(a)) for a in arrays):
        return float(norm)
    scale = max(float(np.max(np.abs(a), initial=0.0)) for a in arrays)
    return scale * float(np.sqrt(sum(float(np.vdot(a / scale, a / scale)) for a in arrays)))


def _scores_overflow(W, b, X):
    """Whether ``X W^T + b`` has non-finite entries (the last step is unchecked).

    A cheap bound ``max_t sum_j |W_tj| max|X| + max|b|`` rules overflow out in
    the usual case; only when it does not are the scores computed.
    """
    x_max = max(abs(float(X.max())), abs(float(X.min())))
    with np.errstate(over="ignore", invalid="ignore"):
        bound = float(np.abs(W).sum(axis=1).max()) * x_max
        if b is not None:
            bound += float(np.abs(b).max())
        if np.isfinite(bound) and bound < np.finfo(W.dtype).max / 4:
            return False
        O = safe_sparse_dot(X, W.T)
        if b is not None:
            O += b
    return not np.all(np.isfinite(O))


def _loss_grad(W, b, X, y_idx, sample_weight, alpha, fit_intercept=True):
    """Loss ``L(W, b)`` and its gradient for the softmax model.

    Parameters
    ----------
    W : ndarray of shape (T, d)
        One hyperplane (row) per class.
    b : ndarray of shape (T,)
        Intercepts.
    X : {ndarray, sparse matrix} of shape (S, d)
    y_idx : ndarray of shape (S,)
        Class index of each sample, ``0 <= y_idx < T``: the position of the 1
        in the one-hot target ``onehot(y_s)``.
    sample_weight : ndarray of shape (S,)
        Non-negative weights that sum to one (``1/S`` each for the plain mean).
    alpha : float
        L2 strength; the intercept is not penalized.

    Returns
    -------
    loss : float
        ``sum_s w_s H(onehot(y_s), softmax(W x_s + b)) + (alpha/2) ||W||^2``.
    grad_W : ndarray of shape (T, d)
        ``G^T X + alpha W`` where ``G = diag(w) (P - Y)``.
    grad_b : ndarray of shape (T,)
        ``sum_s G_s`` (zeros when ``fit_intercept=False``).
    """
    O = safe_sparse_dot(X, W.T)  # logits o_s = W x_s + b, shape (S, T)
    if fit_intercept:
        O += b
    rows = np.arange(O.shape[0])
    # log-sum-exp: log p_{s,t} = o_{s,t} - m_s - log sum_k exp(o_{s,k} - m_s)
    O -= O.max(axis=1, keepdims=True)
    with np.errstate(under="ignore"):
        P = np.exp(O)
    norm = P.sum(axis=1)
    log_p_true = O[rows, y_idx] - np.log(norm)
    loss = -float(sample_weight @ log_p_true) + 0.5 * alpha * float(np.vdot(W, W))
    # G = diag(w) (P - Y): softmax probabilities minus the one-hot targets
    P /= norm[:, None]
    P[rows, y_idx] -= 1
    P *= sample_weight[:, None]
    if sp.issparse(X):
        grad_W = np.asarray(safe_sparse_dot(X.T, P).T)
    else:
        grad_W = P.T @ X
    grad_W += alpha * W
    grad_b = P.sum(axis=0) if fit_intercept else np.zeros_like(b)
    return loss, grad_W, grad_b


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
    where :math:`\eta` is ``learning_rate``. The gradient is
    :math:`\nabla_W L = \frac{1}{S} (P - Y)^\top X + \alpha W` and
    :math:`\nabla_b L = \frac{1}{S} \sum_s (p_s - \mathrm{onehot}(y_s))`.

    Parameters
    ----------
    learning_rate : float, default=0.5
        The step size :math:`\eta > 0` of the update. Too large a value makes
        the loss blow up; with ``learning_rate_schedule='constant'`` or
        ``'invscaling'`` that raises :class:`~sklearn_gabor.exceptions.DivergenceError`
        (a ``ValueError``), and ``'adaptive'`` instead undoes the step and
        divides the rate by 5.

    learning_rate_schedule : {'constant', 'invscaling', 'adaptive'}, default='adaptive'
        How the step size changes over epochs ``t``:

        - 'constant': :math:`\eta_t = \eta`.
        - 'invscaling': :math:`\eta_t = \eta / (t + 1)^{\text{power\_t}}`.
        - 'adaptive': :math:`\eta_t = \eta` as long as training makes progress.
          A step that increases the loss (solvers 'gd' and 'pgd') or makes it non-finite
          is undone, and each setback, including ``n_iter_no_change``
          epochs without improvement for the stochastic solvers, divides the
          rate by 5. Training stops when it falls below 1e-6.

    solver : {'gd', 'pgd', 'sgd', 'adam'}, default='gd'
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
          with ``X`` per epoch; it is refused only when ``n_samples`` and
          ``n_features`` both exceed 10000. Use ``learning_rate=1.0``.
        - 'sgd': mini-batch stochastic gradient descent with ``momentum``
          (Nesterov's if ``nesterovs_momentum``).
        - 'adam': mini-batch Adam.

    alpha : float, default=1e-4
        L2 penalty strength :math:`\alpha \ge 0` on ``W`` (not on ``b``).

    fit_intercept : bool, default=True
        Whether to learn the intercepts ``b``; if False, ``b = 0``.

    batch_size : int or 'auto', default='auto'
        Mini-batch size for 'sgd' and 'adam' ('auto' is ``min(200, n_samples)``).
        Ignored by 'gd' and 'pgd', which always use the full batch.

    max_iter : int, default=200
        Maximum number of epochs (passes over the training data).

    tol : float, default=1e-4
        Stopping tolerance. For 'gd' and 'pgd', training stops when the gradient norm
        :math:`\lVert \nabla L \rVert` falls below ``tol`` (the ground feels
        flat). For 'sgd' and 'adam', it stops when the epoch loss (or the
        validation accuracy with ``early_stopping``) has not improved by at
        least ``tol`` for ``n_iter_no_change`` consecutive epochs.

    n_iter_no_change : int, default=10
        Number of epochs without improvement tolerated (see ``tol``).

    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data (stratified),
        track the validation accuracy after each epoch, stop when it has not
        improved by ``tol`` for ``n_iter_no_change`` epochs, and restore the
        weights with the best validation accuracy.

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
        Exponent of the 'invscaling' schedule.

    class_weight : dict, 'balanced' or None, default=None
        Weights ``{class: weight}`` multiplied into the sample weights;
        'balanced' uses ``n_samples / (n_classes * bincount(y))``.

    warm_start : bool, default=False
        Reuse the previous solution (and optimizer state) as initialization.

    shuffle : bool, default=True
        Shuffle the samples at each epoch ('sgd' and 'adam').

    random_state : int, RandomState instance or None, default=None
        Controls the shuffling and the validation split. The weights start at
        zero, so 'gd' and 'pgd' without early stopping are fully deterministic.

    verbose : int, default=0
        If > 0, print one line per epoch: epoch, loss, gradient norm (for
        'gd' and 'pgd'), learning rate and elapsed time.

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
        Number of epochs run.
    t_ : int
        Number of training samples seen.
    loss_ : float
        Loss of the last epoch.
    loss_curve_ : list of float
        Loss per epoch: for 'gd' and 'pgd' the loss at the start of each epoch; for 'sgd'
        and 'adam' the weighted mean of the mini-batch losses.
    grad_norm_curve_ : list of float
        Gradient norm per epoch (solvers 'gd' and 'pgd' only).
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
    sample.

    **Preconditioned descent** ('pgd'). The Hessian of the loss is
    :math:`\nabla^2 L = \sum_s w_s (\mathrm{diag}(p_s) - p_s p_s^\top)
    \otimes \tilde x_s \tilde x_s^\top + \alpha I`, and the eigenvalues of
    :math:`\mathrm{diag}(p) - p p^\top` never exceed 1/2, so
    :math:`\nabla^2 L \preceq M = \tfrac{1}{2} \tilde X^\top D \tilde X + \alpha I`
    (per class). Plain gradient descent converges at a rate set by the
    condition number of the Hessian, which for standardized CIFAR-10 pixels
    is about :math:`10^4`; preconditioning by the fixed :math:`M` leaves
    only the ratio between the true curvature and its bound.

    References
    ----------
    D. Böhning, "Multinomial logistic regression algorithm", Annals of the
    Institute of Statistical Mathematics 44 (1992) 197-200.

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

    _parameter_constraints: dict = {
        "learning_rate": [Interval(numbers.Real, 0, None, closed="neither")],
        "learning_rate_schedule": [StrOptions({"constant", "invscaling", "adaptive"})],
        "solver": [StrOptions({"gd", "pgd", "sgd", "adam"})],
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
        "power_t": [Interval(numbers.Real, 0, None, closed="left")],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "warm_start": ["boolean"],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        learning_rate=0.5,
        *,
        learning_rate_schedule="adaptive",
        solver="gd",
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
        first = not (self.warm_start and hasattr(self, "_W"))
        return self._fit(
            X, y, sample_weight, None, max_iter=self.max_iter, reset=first, incremental=False
        )

    @_fit_context(prefer_skip_nested_validation=True)
    @restore_on_failure
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Run one epoch of the solver on ``(X, y)``.

        ``N`` calls on the same data with ``shuffle=False`` give the same
        model as ``fit`` with ``max_iter=N`` (and ``tol=0``).

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
        if self.early_stopping:
            raise ValueError("early_stopping=True is not supported by partial_fit; use fit.")
        if self.class_weight == "balanced":
            raise ValueError(
                "class_weight='balanced' is not supported by partial_fit: the class "
                "frequencies of the whole data are unknown. Pass a dict of weights."
            )
        first = not hasattr(self, "_W")
        if first and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit.")
        if classes is not None:
            classes = unique_labels(classes)
            if not first and not np.array_equal(classes, self.classes_):
                raise ValueError(
                    f"`classes={classes.tolist()}` is not the same as on the first call "
                    f"to partial_fit, which was {self.classes_.tolist()}."
                )
        return self._fit(X, y, sample_weight, classes, max_iter=1, reset=first, incremental=True)

    # ----------------------------------------------------------- internals
    def _validate_train(self, X, y, sample_weight, reset):
        check_no_array_api_dispatch(self)
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse="csr",
            dtype=[np.float64, np.float32],
            reset=reset,
        )
        check_classification_targets(y)
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=X.dtype, ensure_non_negative=True
        )
        return X, y, sample_weight

    def _fit(self, X, y, sample_weight, classes, *, max_iter, reset, incremental):
        X, y, sample_weight = self._validate_train(X, y, sample_weight, reset)
        if reset and classes is None:
            classes = np.unique(y)
        elif not reset:
            classes = self.classes_
        if classes is not None:
            unknown = np.setdiff1d(np.unique(y), classes)
            if unknown.size:
                raise ValueError(
                    f"y contains classes {unknown.tolist()} not seen in the first call "
                    f"(classes_={classes.tolist()})."
                )
        y_idx = np.searchsorted(classes, y)
        n_classes = len(classes)
        if n_classes < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes in the "
                f"data, but the data contains only one class: {classes.tolist()[0]!r}."
            )
        if self.class_weight is not None:
            cw = compute_class_weight(self.class_weight, classes=classes, y=y)
            if not np.all(np.isfinite(cw) & (cw >= 0)):
                raise ValueError(
                    "class_weight values must be finite and >= 0 (a negative weight "
                    "rewards misclassifying the class); got "
                    f"{dict(zip(classes.tolist(), cw.tolist()))}."
                )
            sample_weight = sample_weight * cw[y_idx].astype(X.dtype)
        present = np.bincount(y_idx, weights=sample_weight, minlength=n_classes) > 0
        if not incremental and present.sum() < 2:
            raise ValueError(
                "Only one class has a non-zero sample weight: at least 2 classes "
                "must carry weight to fit a classifier."
            )
        if not np.any(sample_weight > 0):
            raise ValueError("sample_weight sums to zero: there is nothing to fit.")

        dtype = X.dtype
        if reset:
            W = np.zeros((n_classes, X.shape[1]), dtype=dtype)
            b = np.zeros(n_classes, dtype=dtype)
            state = self._new_state([W, b])
        else:
            # work on copies: a failed fit leaves the fitted model untouched
            W = self._W.astype(dtype, copy=True)
            b = self._b.astype(dtype, copy=True)
            state = copy.deepcopy(self._state)
            if state["dtype"] != dtype or state["solver"] != self._solver_params():
                state = self._new_state([W, b], state)
            schedule = state["schedule"]
            if (schedule.kind, schedule.learning_rate_init, schedule.power_t) != (
                self.learning_rate_schedule,
                self.learning_rate,
                self.power_t,
            ):  # set_params between calls takes effect
                state["schedule"] = _Schedule(
                    self.learning_rate_schedule, self.learning_rate, self.power_t
                )

        X_val = y_val = None
        if self.early_stopping and not incremental:
            stratify = y_idx if np.bincount(y_idx).min() >= 2 else None
            X, X_val, y_idx, y_val, sample_weight, _ = train_test_split(
                X,
                y_idx,
                sample_weight,
                test_size=self.validation_fraction,
                random_state=check_random_state(self.random_state),
                stratify=stratify,
            )
        rng = state.setdefault("rng", check_random_state(self.random_state))
        with blas_threads_for(X.shape[0], X.shape[1], n_classes):
            run = _Run(self, X, y_idx, sample_weight, X_val, y_val, W, b, state, rng)
            run.train(max_iter, incremental)
        # commit: only finite parameters ever reach the estimator
        if not (np.all(np.isfinite(run.W)) and np.all(np.isfinite(run.b))):
            raise DivergenceError(
                f"the parameters became non-finite; reduce learning_rate (={self.learning_rate})."
            )
        if _scores_overflow(run.W, run.b if self.fit_intercept else None, X):
            raise DivergenceError(
                "the fitted parameters give non-finite class scores W x + b on the "
                f"training data; reduce learning_rate (={self.learning_rate}) or "
                "standardize X."
            )
        self.classes_ = classes
        self._W, self._b, self._state = run.W, run.b, state
        self._set_public_attributes(run, reset)
        if run.gave_up is not None:
            warnings.warn(
                f"{type(self).__name__}: the adaptive schedule stopped training because "
                f"learning_rate fell below {MIN_LEARNING_RATE:g} {run.gave_up}; the model "
                "is not converged. Standardize X (e.g. StandardScaler) or lower "
                "learning_rate.",
                ConvergenceWarning,
            )
        elif run.not_converged and not incremental:
            warnings.warn(
                max_iter_message(self, X, max_iter, self.loss_curve_,
                                 getattr(self, "grad_norm_curve_", None)),
                ConvergenceWarning,
            )
        return self

    def _solver_params(self):
        return (
            self.solver, self.momentum, self.nesterovs_momentum,
            self.beta_1, self.beta_2, self.epsilon,
        )

    def _new_state(self, params, old=None):
        state = {
            "dtype": params[0].dtype,
            "solver": self._solver_params(),
            "schedule": _Schedule(self.learning_rate_schedule, self.learning_rate, self.power_t),
            "optimizer": make_optimizer(
                self.solver,
                params,
                momentum=self.momentum,
                nesterovs_momentum=self.nesterovs_momentum,
                beta_1=self.beta_1,
                beta_2=self.beta_2,
                epsilon=self.epsilon,
            ),
            "epoch": 0,
            "samples_seen": 0,
            "best_loss": np.inf,
            "no_improvement": 0,
            "loss_curve": [],
            "grad_norm_curve": [],
        }
        if old is not None:
            for key in ("epoch", "samples_seen", "loss_curve", "grad_norm_curve", "rng"):
                if key in old:
                    state[key] = old[key]
        return state

    def _set_public_attributes(self, run, reset):
        state = self._state
        if len(self.classes_) == 2:
            self.coef_ = (self._W[1] - self._W[0])[None, :]
            self.intercept_ = np.atleast_1d(self._b[1] - self._b[0])
        else:
            self.coef_ = self._W.copy()
            self.intercept_ = self._b.copy()
        self.n_iter_ = state["epoch"]
        self.t_ = state["samples_seen"]
        self.loss_curve_ = list(state["loss_curve"])
        self.loss_ = self.loss_curve_[-1] if self.loss_curve_ else np.nan
        self.best_loss_ = float(np.min(self.loss_curve_)) if self.loss_curve_ else np.nan
        if self.solver in ("gd", "pgd"):
            self.grad_norm_curve_ = list(state["grad_norm_curve"])
        elif hasattr(self, "grad_norm_curve_"):
            del self.grad_norm_curve_
        if run.validation_scores is not None:
            self.validation_scores_ = run.validation_scores
            self.best_validation_score_ = max(run.validation_scores)
        else:
            for name in ("validation_scores_", "best_validation_score_"):
                if hasattr(self, name):
                    delattr(self, name)

    # ------------------------------------------------------------ predict
    def _check_predict_input(self, X):
        check_is_fitted(self)
        check_no_array_api_dispatch(self)
        return validate_data(
            self, X, accept_sparse="csr", dtype=[np.float64, np.float32], reset=False
        )

    def _logits(self, X):
        with np.errstate(over="ignore", invalid="ignore"):
            O = safe_sparse_dot(X, self._W.T.astype(X.dtype, copy=False))
            if self.fit_intercept:
                O += self._b.astype(X.dtype, copy=False)
        return self._check_scores(O, X)

    def _check_scores(self, O, X):
        """Refuse class scores that overflowed: they would give NaN probabilities."""
        if not np.all(np.isfinite(O)):
            bad = int(np.sum(~np.all(np.isfinite(O.reshape(O.shape[0], -1)), axis=1)))
            raise ValueError(
                f"The class scores W x + b overflowed to inf or NaN for {bad} of "
                f"{O.shape[0]} samples: X holds values too large for {X.dtype} "
                f"arithmetic (max |X| = {abs(X).max():.3g}). Rescale X (e.g. "
                "StandardScaler, as in training) or pass float64 X."
            )
        return O

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
        X = self._check_predict_input(X)
        with np.errstate(over="ignore", invalid="ignore"):
            scores = safe_sparse_dot(X, self.coef_.T.astype(X.dtype, copy=False))
            scores += self.intercept_.astype(X.dtype, copy=False)
        scores = self._check_scores(scores, X)
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
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return self.classes_[(scores > 0).astype(int)]
        return self.classes_[np.argmax(scores, axis=1)]

    def predict_log_proba(self, X):
        """Log of the softmax probabilities, computed stably by log-sum-exp.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        X = self._check_predict_input(X)
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
        X = self._check_predict_input(X)
        return _softmax(self._logits(X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


class _Run:
    """One call to fit/partial_fit: the epoch loop, on working copies of W, b."""

    def __init__(self, est, X, y_idx, sw, X_val, y_val, W, b, state, rng):
        self.est, self.X, self.y_idx = est, X, y_idx
        with np.errstate(over="ignore"):
            total = sw.sum()
        if not np.isfinite(total):  # huge weights: rescale before summing
            sw = sw / sw.max()
            total = sw.sum()
        self.sw = sw / total  # weights summing to one: the 1/S of the mean
        self.X_val, self.y_val = X_val, y_val
        self.W, self.b = W, b
        self.state, self.rng = state, rng
        self.validation_scores = [] if X_val is not None else None
        self.best_val = (-np.inf, None)
        self.not_converged = False
        # why the adaptive schedule gave up (its rate fell below 1e-6), or None
        self.gave_up = None
        # solver='pgd': the fixed preconditioner M, built once per fit call
        self.precond = (
            _BoundPreconditioner(X, self.sw, est.alpha, est.fit_intercept)
            if est.solver == "pgd" else None
        )

    def _loss_grad(self, X, y_idx, sw):
        est = self.est
        with np.errstate(over="ignore", invalid="ignore"):
            return _loss_grad(self.W, self.b, X, y_idx, sw, est.alpha, est.fit_intercept)

    def _diverged(self, epoch, loss, what="loss"):
        est = self.est
        if self.state["schedule"].can_shrink:
            # 'adaptive' only fails when it has no finite step to go back to
            hint = (
                "the values of X are too large for floating point (max |X| = "
                f"{abs(self.X).max():.3g}): standardize X (e.g. StandardScaler)."
            )
        else:
            hint = (
                "Use a smaller learning_rate, standardize X, or set "
                "learning_rate_schedule='adaptive'."
            )
        return DivergenceError(
            f"The {what} became {loss} at epoch {epoch + 1} with learning_rate="
            f"{est.learning_rate} (schedule={est.learning_rate_schedule!r}): "
            f"gradient descent diverged; {hint}"
        )

    def train(self, max_iter, incremental):
        est, state = self.est, self.state
        schedule = state["schedule"]
        stop = False
        for _ in range(max_iter):
            epoch = state["epoch"]
            schedule.epoch_starts(epoch)
            t0 = time.perf_counter()
            # overflow is detected (non-finite loss or parameters) and reported
            with np.errstate(over="ignore", invalid="ignore"):
                if est.solver in ("gd", "pgd"):
                    loss, grad_norm, stop = self._gd_epoch(epoch, incremental)
                else:
                    loss, stop = self._stochastic_epoch(epoch)
                    grad_norm = None
            state["epoch"] += 1
            state["samples_seen"] += self.X.shape[0]
            state["loss_curve"].append(loss)
            if grad_norm is not None:
                state["grad_norm_curve"].append(grad_norm)
            if self.validation_scores is not None:
                stop = self._validate() or stop
            if est.verbose:
                gn = f", grad norm = {grad_norm:.3g}" if grad_norm is not None else ""
                print(
                    f"Epoch {epoch + 1}, loss = {loss:.6g}{gn}, learning rate = "
                    f"{schedule.learning_rate:.3g}, time = {time.perf_counter() - t0:.3f}s"
                )
            if stop and not incremental:
                break
        else:
            self.not_converged = not incremental
        if self.validation_scores is not None and self.best_val[1] is not None:
            self.W, self.b = self.best_val[1]

    def _gd_epoch(self, epoch, incremental):
        """One full-batch step; returns (loss, gradient norm, stop)."""
        est, state = self.est, self.state
        schedule, optimizer = state["schedule"], state["optimizer"]
        loss, gW, gb = self._loss_grad(self.X, self.y_idx, self.sw)
        prev = state.get("gd_prev")
        setback = not np.isfinite(loss) or (
            prev is not None
            and schedule.can_shrink
            and loss > prev[0] + 16 * np.finfo(self.W.dtype).eps * max(1.0, abs(prev[0]))
        )
        if setback:
            if not schedule.can_shrink or prev is None:
                raise self._diverged(epoch, loss)
            # undo the last step and retry from there with a 5x smaller rate
            loss, W, b, gW, gb = prev
            self.W[...] = W
            self.b[...] = b
            if not schedule.shrink():
                grad_norm = _norm(gW, gb)
                if grad_norm >= est.tol:
                    self.gave_up = (
                        f"after repeated loss increases, with the gradient norm "
                        f"{grad_norm:.3g} still above tol={est.tol:g}"
                    )
                return loss, grad_norm, True
        grad_norm = _norm(gW, gb)
        if not np.isfinite(grad_norm):
            raise self._diverged(epoch, grad_norm, what="gradient norm")
        if grad_norm < est.tol and not incremental:
            return loss, grad_norm, True
        if schedule.can_shrink:
            state["gd_prev"] = (loss, self.W.copy(), self.b.copy(), gW, gb)
        if self.precond is not None:  # 'pgd': the direction M^{-1} grad L
            gW, gb = self.precond.solve(gW, gb)
        optimizer.step([self.W, self.b], [gW, gb], schedule.learning_rate)
        return loss, grad_norm, False

    def _stochastic_epoch(self, epoch):
        """One pass of mini-batch updates; returns (mean loss, stop)."""
        est, state = self.est, self.state
        schedule, optimizer = state["schedule"], state["optimizer"]
        n = self.X.shape[0]
        batch_size = min(200, n) if est.batch_size == "auto" else min(est.batch_size, n)
        if est.shuffle:
            order = self.rng.permutation(n)
        W0, b0 = self.W.copy(), self.b.copy()
        total = 0.0
        for batch in gen_batches(n, batch_size):
            idx = order[batch] if est.shuffle else batch
            sw = self.sw[idx]
            mass = sw.sum()
            if mass <= 0:
                continue
            loss, gW, gb = self._loss_grad(self.X[idx], self.y_idx[idx], sw / mass)
            if not np.isfinite(loss) or not np.all(np.isfinite(gW)):
                if not schedule.can_shrink:
                    raise self._diverged(epoch, loss)
                self.W[...], self.b[...] = W0, b0
                optimizer.reset()
                return np.inf, self._shrink_after_overflow()
            total += mass * loss
            optimizer.step([self.W, self.b], [gW, gb], schedule.learning_rate)
        if not np.all(np.isfinite(self.W)):
            if not schedule.can_shrink:
                raise self._diverged(epoch, np.nan)
            self.W[...], self.b[...] = W0, b0
            optimizer.reset()
            return np.inf, self._shrink_after_overflow()
        loss = float(total)
        stop = False
        if self.validation_scores is None:
            if loss > state["best_loss"] - est.tol:
                state["no_improvement"] += 1
            else:
                state["no_improvement"] = 0
            state["best_loss"] = min(state["best_loss"], loss)
            if state["no_improvement"] >= est.n_iter_no_change:
                state["no_improvement"] = 0
                stop = not (schedule.can_shrink and schedule.shrink())
        return loss, stop

    def _shrink_after_overflow(self):
        """Shrink the rate after a non-finite epoch; return whether to stop."""
        if self.state["schedule"].shrink():
            return False
        self.gave_up = "after the loss or the parameters kept overflowing"
        return True

    def _validate(self):
        """Record the validation accuracy; keep the best weights; return stop."""
        est, state = self.est, self.state
        O = safe_sparse_dot(self.X_val, self.W.T)
        if est.fit_intercept:
            O += self.b
        score = float(np.mean(np.argmax(O, axis=1) == self.y_val))
        self.validation_scores.append(score)
        if score > self.best_val[0] + est.tol:
            self.best_val = (score, (self.W.copy(), self.b.copy()))
            state["no_improvement_val"] = 0
        else:
            state["no_improvement_val"] = state.get("no_improvement_val", 0) + 1
        return state["no_improvement_val"] >= est.n_iter_no_change
