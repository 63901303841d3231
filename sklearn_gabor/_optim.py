"""Update rules and learning-rate schedules for :class:`GDSoftmaxClassifier`.

Every optimizer here applies one step to a list of parameter arrays, in place:

* :class:`_GDOptimizer` is plain gradient descent, ``theta <- theta - eta * grad``;
* :class:`_MomentumOptimizer` adds (Nesterov) momentum,
  ``v <- mu v - eta grad; theta <- theta + v`` (or ``mu v - eta grad`` for Nesterov);
* :class:`_AdamOptimizer` is Adam (Kingma & Ba, 2015) with bias correction;
* :class:`_BoundPreconditioner` turns the gradient into the preconditioned
  direction ``M^{-1} grad`` of solver='pgd' (Böhning's bound on the Hessian).

The step size ``eta`` comes from a :class:`_Schedule` ('constant', 'invscaling'
or 'adaptive'), kept apart from the update rule as in scikit-learn's MLP.

What training remembers is split in two typed records: :class:`_TrainingState`
persists from one ``partial_fit`` call to the next (epochs, samples seen,
curves, the schedule's current rate, the optimizer's moments) and is built
anew by every ``fit``; :class:`_CallState` belongs to one call (the loss
before the last step, the best loss or validation score, the no-improvement
counts, the preconditioner) and is forgotten when the call returns.
"""

from dataclasses import dataclass, field

import numpy as np
import scipy.linalg
import scipy.sparse as sp

#: the adaptive schedule divides the rate by this factor on each setback
ADAPTIVE_FACTOR = 5.0
#: the adaptive schedule gives up once the rate falls below this value
MIN_LEARNING_RATE = 1e-6


class _Schedule:
    """Learning-rate schedule ``eta_t`` over epochs ``t = 0, 1, ...``.

    * ``'constant'``: ``eta_t = eta_0``;
    * ``'invscaling'``: ``eta_t = eta_0 / (t + 1) ** power_t``;
    * ``'adaptive'``: ``eta_t = eta_0`` until a setback (a step that increased
      the loss or made it non-finite, or ``n_iter_no_change`` epochs without
      progress), then ``eta <- eta / 5``; training stops once ``eta < 1e-6``.
    """

    def __init__(self, kind, learning_rate, power_t):
        self.kind = kind
        self.learning_rate_init = float(learning_rate)
        self.power_t = power_t
        self.learning_rate = float(learning_rate)

    def epoch_starts(self, epoch):
        if self.kind == "invscaling":
            self.learning_rate = self.learning_rate_init / (epoch + 1) ** self.power_t

    @property
    def can_shrink(self):
        return self.kind == "adaptive"

    def shrink(self):
        """Divide the rate by 5; return False when it is too small to go on.

        The rate never goes below ``MIN_LEARNING_RATE``: once a division would
        take it there, it is kept and training stops (``fit``), or carries on
        at that rate (repeated ``partial_fit`` calls).
        """
        if self.learning_rate / ADAPTIVE_FACTOR < MIN_LEARNING_RATE:
            return False
        self.learning_rate /= ADAPTIVE_FACTOR
        return True


class _GDOptimizer:
    """Plain (stochastic) gradient descent: ``theta <- theta - eta * grad``."""

    def __init__(self, params):
        pass

    def step(self, params, grads, eta):
        for p, g in zip(params, grads):
            p -= eta * g

    def reset(self):
        pass


class _MomentumOptimizer:
    """Gradient descent with momentum ``mu`` and optional Nesterov look-ahead.

    ``v <- mu v - eta grad``; ``theta <- theta + v`` (classical) or
    ``theta <- theta + mu v - eta grad`` (Nesterov, as in scikit-learn's MLP).
    """

    def __init__(self, params, momentum, nesterov):
        self.momentum = momentum
        self.nesterov = nesterov
        self.velocities = [np.zeros_like(p) for p in params]

    def step(self, params, grads, eta):
        mu = self.momentum
        for p, g, v in zip(params, grads, self.velocities):
            v *= mu
            v -= eta * g
            if self.nesterov:
                p += mu * v - eta * g
            else:
                p += v

    def reset(self):
        for v in self.velocities:
            v[...] = 0


class _AdamOptimizer:
    """Adam: ``m <- b1 m + (1-b1) g``, ``s <- b2 s + (1-b2) g**2``,
    ``theta <- theta - eta_t m / (sqrt(s) + eps)`` with the bias-corrected
    ``eta_t = eta sqrt(1 - b2**t) / (1 - b1**t)``.

    References: D. P. Kingma and J. Ba, "Adam: A method for stochastic
    optimization", ICLR 2015.
    """

    def __init__(self, params, beta_1, beta_2, epsilon):
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon
        self.t = 0
        self.ms = [np.zeros_like(p) for p in params]
        self.vs = [np.zeros_like(p) for p in params]

    def step(self, params, grads, eta):
        self.t += 1
        b1, b2 = self.beta_1, self.beta_2
        eta_t = eta * np.sqrt(1 - b2**self.t) / (1 - b1**self.t)
        for p, g, m, v in zip(params, grads, self.ms, self.vs):
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * (g * g)
            p -= (eta_t * m / (np.sqrt(v) + self.epsilon)).astype(p.dtype, copy=False)

    def reset(self):
        self.t = 0
        for a in self.ms + self.vs:
            a[...] = 0


def make_optimizer(solver, params, *, momentum, nesterovs_momentum, beta_1, beta_2, epsilon):
    """Build the update rule for ``solver`` in {'gd', 'pgd', 'sgd', 'adam'}."""
    if solver == "adam":
        return _AdamOptimizer(params, beta_1, beta_2, epsilon)
    if solver == "sgd" and momentum > 0:
        return _MomentumOptimizer(params, momentum, nesterovs_momentum)
    return _GDOptimizer(params)


@dataclass
class _TrainingState:
    """Training progress that persists between ``partial_fit`` calls.

    ``fit`` (with or without ``warm_start``) builds a new one, so its schedule
    starts at the documented ``learning_rate`` and its curves hold only its own
    epochs; ``partial_fit`` continues the one it finds. ``solver_params`` and
    ``dtype`` tell whether ``optimizer`` still fits the current parameters.
    """

    schedule: _Schedule
    optimizer: object
    rng: np.random.RandomState
    dtype: np.dtype
    solver_params: tuple
    n_iter: int = 0  # epochs run
    t: int = 0  # training samples seen
    loss_curve: list = field(default_factory=list)
    grad_norm_curve: list = field(default_factory=list)
    validation_scores: list = field(default_factory=list)


@dataclass
class _CallState:
    """What one ``fit`` or ``partial_fit`` call tracks; forgotten when it returns.

    Nothing here is compared across calls: in streaming, the previous call saw
    another chunk, whose loss says nothing about this one.
    """

    precond: object | None = None  # solver='pgd': M, built from this call's data
    previous: tuple | None = None  # 'gd'/'pgd' adaptive: (loss, W, b, gW, gb) before the last step
    best_loss: float = np.inf
    no_improvement: int = 0
    best_validation: float = -np.inf
    best_weights: tuple | None = None
    no_improvement_validation: int = 0
    gave_up: str | None = None  # why the adaptive schedule stopped, if it did
    not_converged: bool = False
    interrupted: bool = False


#: solver='pgd' factorizes a (n_features + 1)^2 matrix; refuse more features
PGD_MAX_FEATURES = 10_000


class _BoundPreconditioner:
    """The fixed preconditioner ``M`` of solver='pgd' (Böhning's Hessian bound).

    For the softmax cross-entropy the Hessian of the loss in ``(W, b)`` is
    bounded, for every ``W``, by

    ``H <= 1/2 (I_T (x) X~^T D X~) + alpha diag(1, ..., 1, 0)``

    where ``X~ = [X, 1]`` appends the intercept's column of ones, ``D`` is the
    diagonal of the sample weights (summing to one) and ``1/2`` bounds the
    eigenvalues of ``diag(p) - p p^T`` (Böhning, 1992). The step
    ``theta <- theta - eta M^{-1} grad L(theta)`` with ``M`` this bound (one
    ``d~ x d~`` block per class) minimizes a quadratic upper bound of ``L``
    when ``eta = 1``: the loss never increases, and where the curvature is
    ill-conditioned (correlated pixels) the step rescales it away, which plain
    gradient descent cannot.

    ``M`` is built once per fit in float64, ``X~^T D X~`` accumulated over row
    chunks (``O(S d^2)``, without copying ``X`` whole), and Cholesky-factorized
    (``O(d^3)``); each step then costs a triangular solve, ``O(T d^2)``.

    References: D. Böhning, "Multinomial logistic regression algorithm",
    Annals of the Institute of Statistical Mathematics 44 (1992) 197-200.
    """

    def __init__(self, X, sample_weight, alpha, fit_intercept, chunk_size=2048):
        n, d = X.shape
        if d > PGD_MAX_FEATURES:
            raise ValueError(
                f"solver='pgd' builds and factorizes a (n_features + 1)^2 matrix, but "
                f"X has n_features={d} > {PGD_MAX_FEATURES}: use solver='gd', 'sgd' or "
                "'adam' (or reduce the features first, e.g. with PCA)."
            )
        self.d, self.fit_intercept = d, fit_intercept
        dd = d + 1 if fit_intercept else d
        M = np.zeros((dd, dd), dtype=np.float64)
        root = np.sqrt(sample_weight)
        for start in range(0, n, chunk_size):
            rows = slice(start, min(start + chunk_size, n))
            if sp.issparse(X):
                Xc = sp.csr_matrix(X[rows].multiply(root[rows, None]))
                M[:d, :d] += (Xc.T @ Xc).toarray()
            else:
                Xc = X[rows] * root[rows, None].astype(X.dtype, copy=False)
                M[:d, :d] += Xc.T @ Xc  # X^T D X over this chunk
        if fit_intercept:
            mean = np.asarray(sample_weight @ X, dtype=np.float64).ravel()  # X^T D 1
            M[:d, d] = M[d, :d] = mean
            M[d, d] = sample_weight.sum()
        M *= 0.5
        M[np.arange(d), np.arange(d)] += alpha
        # alpha = 0 and collinear features leave M singular: the gradient has no
        # component in its null space, so a tiny ridge there changes no step
        jitter = 0.0
        scale = max(float(np.trace(M)) / dd, np.finfo(np.float64).tiny)
        for _ in range(4):
            try:
                self.factor = scipy.linalg.cho_factor(
                    M + jitter * np.eye(dd) if jitter else M, check_finite=False
                )
                break
            except np.linalg.LinAlgError:
                jitter = 1e-10 * scale if not jitter else jitter * 1e3
        else:  # pragma: no cover - M + 1e-1 * scale I is positive definite
            raise np.linalg.LinAlgError("could not factorize the 'pgd' preconditioner")

    def solve(self, grad_W, grad_b):
        """The preconditioned direction ``M^{-1} grad`` (one block per class)."""
        G = grad_W.astype(np.float64)
        if self.fit_intercept:
            G = np.concatenate([G, grad_b.astype(np.float64)[:, None]], axis=1)
        D = scipy.linalg.cho_solve(self.factor, G.T, check_finite=False).T
        step_b = D[:, self.d].astype(grad_b.dtype) if self.fit_intercept else np.zeros_like(grad_b)
        return D[:, : self.d].astype(grad_W.dtype), step_b
