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

import contextlib
from dataclasses import dataclass, field

import numpy as np
import scipy.linalg
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

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
    accel: object | None = None  # solver='apgd': the momentum state of this call
    previous: tuple | None = None  # 'gd'/'pgd' adaptive: (loss, W, b, gW, gb) before the last step
    best_loss: float = np.inf
    no_improvement: int = 0
    best_validation: float = -np.inf
    best_weights: tuple | None = None
    no_improvement_validation: int = 0
    gave_up: str | None = None  # why the adaptive schedule stopped, if it did
    not_converged: bool = False
    interrupted: bool = False


def _looks_standardized(X):
    """Whether every column of dense X has |mean| < 0.1 and a std in [0.5, 2]."""
    if sp.issparse(X):
        return False
    # a hint, not a check: 1,000 evenly spaced rows tell a standardized X
    # from a raw one without converting a large X to float64
    sample = np.asarray(X[:: max(1, X.shape[0] // 1000)], dtype=np.float64)
    mean, std = sample.mean(axis=0), sample.std(axis=0)
    return bool(np.all(np.abs(mean) < 0.1) and np.all((std > 0.5) & (std < 2.0)))


def max_iter_message(est, X, max_iter, loss_curve, grad_norm_curve):
    """The ConvergenceWarning of a fit that ran to ``max_iter``: where it stopped, what to change."""
    name, tol = type(est).__name__, est.tol
    drop = loss_curve[-2] - loss_curve[-1] if len(loss_curve) > 1 else float("nan")
    if grad_norm_curve:  # 'gd', 'pgd', 'apgd': tol bounds max |gradient entry|
        where = (
            f"the largest gradient entry is {grad_norm_curve[-1]:.3g}, above tol={tol:g}, and the "
            f"last epoch lowered the loss by {drop:.3g}"
        )
        change = (
            "increase max_iter, or raise tol (the largest gradient entry below which "
            "the fit counts as converged)"
        )
        if est.solver == "gd":
            change += ", or try solver='apgd' or 'pgd' (preconditioned) or a larger learning_rate"
    else:  # 'sgd', 'adam': tol is the loss improvement over n_iter_no_change epochs
        where = (
            f"the loss still improved by more than tol={tol:g} within the last "
            f"n_iter_no_change={est.n_iter_no_change} epochs"
        )
        change = "increase max_iter or tol"
    hint = "" if _looks_standardized(X) else "Standardize X (e.g. StandardScaler), or "
    return (
        f"{name} reached max_iter={max_iter} epochs without converging: {where}. "
        f"{hint}{change[0].upper() if not hint else change[0]}{change[1:]}."
    )


#: products ``X @ W.T`` with fewer multiply-adds than this run on one BLAS thread
SMALL_PRODUCT = 4_000_000


def blas_threads_for(n_samples, n_features, n_classes):
    """One BLAS thread for a small problem, the default threads otherwise.

    On a problem such as 1,347 x 128 with 10 classes every product is a few
    hundred microseconds of work, less than what waking and synchronizing BLAS
    threads costs; with a busy machine the default threads made such a fit 20
    to 50 times slower than one thread (``benchmarks/bench_small_problem.py``).
    """
    if n_samples * n_features * n_classes < SMALL_PRODUCT:
        return threadpool_limits(limits=1, user_api="blas")
    return contextlib.nullcontext()


#: solver='pgd' factorizes a matrix of side min(n_samples, n_features + 1) up to
#: this many features; beyond, the n x n form for up to 4 * PGD_RANK samples
#: (its n^2 d Gram matrix costs less than the low-rank form's 4 n d k passes),
#: and a low-rank (randomized Nystrom) form for more
PGD_MAX_FEATURES = 10_000
#: rank of the low-rank form's approximation of the data's covariance
PGD_RANK = 256
#: power iterations of the low-rank form (each one more pass over X)
PGD_POWER_ITER = 1
#: below this side the factor is inverted once, and each step is one product
_EXPLICIT_INVERSE_MAX = 2048


def _check_pgd_size(n, d, alpha):
    """Refuse the n x n form without a penalty (see PGD_MAX_FEATURES)."""
    if d > PGD_MAX_FEATURES and n <= 4 * PGD_RANK and alpha <= 0:
        raise ValueError(
            f"solver='pgd' or 'apgd' with n_features={d} > {PGD_MAX_FEATURES} works in the "
            "n_samples x n_samples form, which needs alpha > 0 (with alpha=0 and more "
            "features than samples the loss has no minimum); got alpha=0."
        )


def _pgd_form(n, d, alpha):
    """'primal' ((d + 1)^2), 'dual' (n x n, Woodbury) or 'lowrank' (Nystrom)."""
    if d > PGD_MAX_FEATURES and n > 4 * PGD_RANK:
        return "lowrank"
    return "dual" if _use_dual(n, d, alpha) else "primal"


def _use_dual(n, d, alpha):
    """Whether the n x n (Woodbury) form is cheaper than the (d + 1)^2 one."""
    if alpha <= 0 or n >= d + 1:
        return False
    if d > PGD_MAX_FEATURES:
        return True
    # building + factorizing: n d^2 + d^3 / 3 against (twice, float64) n^2 d + n^3 / 3
    return n * d * d + d**3 / 3 > 2 * (n * n * d + n**3 / 3)


def _check_bound_finite(A):
    """Refuse a curvature bound that overflowed (values of X too large to square)."""
    if not np.all(np.isfinite(A)):
        raise ValueError(
            "solver='pgd' or 'apgd': the curvature bound M = 1/2 X~^T D X~ + alpha I "
            "overflowed to inf or NaN: the values of X are too large for floating point "
            "to square. Standardize X (e.g. StandardScaler)."
        )


def _robust_cholesky(M):
    """``cho_factor(M)``, adding a tiny ridge if rounding leaves M singular."""
    _check_bound_finite(M)
    size = M.shape[0]
    jitter = 0.0
    scale = max(float(np.trace(M)) / size, np.finfo(np.float64).tiny)
    for _ in range(4):
        try:
            return scipy.linalg.cho_factor(
                M + jitter * np.eye(size) if jitter else M, check_finite=False
            )
        except np.linalg.LinAlgError:
            jitter = 1e-10 * scale if not jitter else jitter * 1e3
    raise np.linalg.LinAlgError(  # pragma: no cover - M + 1e-1 * scale I is positive definite
        "could not factorize the 'pgd' preconditioner"
    )


def _row_chunks(n, chunk_size):
    for start in range(0, n, chunk_size):
        yield slice(start, min(start + chunk_size, n))


def _weighted_column_sum(X, sw, chunk_size=2048):
    """``sw @ X`` in float64, a row block at a time in the dtype of dense X.

    A float64 vector times a float32 matrix has no BLAS routine in NumPy, which
    then converts all of X (4.4 s at 10,000 x 25,000); each block's float32
    product (relative rounding 1e-7) is added up in float64 instead.
    """
    if sp.issparse(X):
        return np.asarray(sw @ X, dtype=np.float64).ravel()
    out = np.zeros(X.shape[1], dtype=np.float64)
    for rows in _row_chunks(X.shape[0], chunk_size):
        out += sw[rows].astype(X.dtype) @ X[rows]
    return out


def _as_float64_rows(X, rows):
    """Rows of X as a dense float64 block (float32 products are exact in float64)."""
    block = X[rows]
    if sp.issparse(block):
        block = block.toarray()
    return np.asarray(block, dtype=np.float64)


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

    ``M^{-1} grad`` is computed in one of two exact forms, whichever costs
    less to build, or, when both would be too large, in a low-rank one:

    * primal, ``d~ x d~``: ``X~^T D X~`` accumulated over row chunks
      (``O(S d^2)``, without copying ``X`` whole) and Cholesky-factorized
      (``O(d^3)``); each step is a triangular solve, ``O(T d^2)`` (for
      ``d~ <= 2048`` the factor is inverted once and a step is one product);
    * dual, ``S x S``, when there are more features than samples (and
      ``alpha > 0``): eliminating the intercept leaves
      ``A = alpha I + 1/2 V^T V`` with ``V = D^{1/2} (X - 1 xbar^T)`` (the
      weighted, centred data), and the Woodbury identity
      ``A^{-1} = (I - 1/2 V^T (alpha I + 1/2 V V^T)^{-1} V) / alpha`` needs
      only the ``S x S`` Gram matrix (``O(S^2 d + S^3)`` once) and, per step,
      two products with ``X`` (``O(T S d)``). It runs in float64, the block
      of rows in use converted at a time, because the identity subtracts
      nearly equal terms;
    * low-rank, when ``S`` and ``d`` both exceed ``PGD_MAX_FEATURES``: the
      same elimination, with ``V^T V`` replaced by a rank-``PGD_RANK``
      randomized Nystrom approximation ``U diag(lam) U^T`` (see
      ``_build_lowrank``); ``A^{-1}`` is then ``1 / (alpha + lam_i / 2)`` on
      the columns of ``U`` and ``1 / (alpha + lam_k / 2)`` on the rest. Two
      passes over ``X`` (``O(S d k)``) build it and each step costs
      ``O(T d k)``. Nystrom underestimates ``V^T V``, so ``M`` may then fall
      short of the Hessian bound in directions ``U`` misses; the solver's
      rate reduction on a rising loss covers that case.

    References: D. Böhning, "Multinomial logistic regression algorithm",
    Annals of the Institute of Statistical Mathematics 44 (1992) 197-200.
    """

    fast_products = False  # the dual form's float32 products (set in _build_dual)

    def __init__(self, X, sample_weight, alpha, fit_intercept, chunk_size=2048):
        n, d = X.shape
        _check_pgd_size(n, d, alpha)
        self.d, self.fit_intercept, self.alpha = d, fit_intercept, float(alpha)
        self.form = _pgd_form(n, d, alpha)
        if self.form in ("dual", "lowrank"):
            # float64 row blocks of at most 2^23 values (64 MB)
            self.chunk_size = max(1, min(chunk_size, 2**23 // max(d, 1)))
            build = self._build_dual if self.form == "dual" else self._build_lowrank
            build(X, np.asarray(sample_weight, dtype=np.float64))
        else:
            self.chunk_size = chunk_size
            self._build_primal(X, sample_weight)

    # ------------------------------------------------------------- primal
    def _build_primal(self, X, sample_weight):
        n, d = X.shape
        dd = d + 1 if self.fit_intercept else d
        M = np.zeros((dd, dd), dtype=np.float64)
        root = np.sqrt(sample_weight)
        for rows in _row_chunks(n, self.chunk_size):
            if sp.issparse(X):
                Xc = sp.csr_matrix(X[rows].multiply(root[rows, None]))
                M[:d, :d] += (Xc.T @ Xc).toarray()
            else:
                Xc = X[rows] * root[rows, None].astype(X.dtype, copy=False)
                M[:d, :d] += Xc.T @ Xc  # X^T D X over this chunk
        if self.fit_intercept:
            mean = _weighted_column_sum(X, sample_weight)  # X^T D 1
            M[:d, d] = M[d, :d] = mean
            M[d, d] = sample_weight.sum()
        M *= 0.5
        M[np.arange(d), np.arange(d)] += self.alpha
        # alpha = 0 and collinear features leave M singular: the gradient has no
        # component in its null space, so a tiny ridge there changes no step
        self.factor = _robust_cholesky(M)
        self.inverse = None
        if dd <= _EXPLICIT_INVERSE_MAX:
            self.inverse = scipy.linalg.cho_solve(self.factor, np.eye(dd), check_finite=False)

    def _solve_primal(self, G):
        if self.inverse is not None:
            return G @ self.inverse  # M^{-1} is symmetric
        return scipy.linalg.cho_solve(self.factor, G.T, check_finite=False).T

    # --------------------------------------------------------------- dual
    def _build_dual(self, X, sw):
        n = X.shape[0]
        self._centre(X, sw)
        # K = X X^T in float64, then V V^T = D^1/2 (K - a 1^T - 1 a^T + c) D^1/2
        K = np.empty((n, n), dtype=np.float64)
        for rows in _row_chunks(n, self.chunk_size):
            block = _as_float64_rows(X, rows)
            for cols in _row_chunks(n, self.chunk_size):
                if cols.start < rows.start:
                    continue
                K[rows, cols] = block @ _as_float64_rows(X, cols).T
                K[cols, rows] = K[rows, cols].T
        # Each epoch's two products with X may run in float32 (no float64 copy
        # of X, a quarter of the memory traffic) when X is dense float32 and
        # its mean does not dominate its spread: then X H and xbar^T H do not
        # cancel, and the rounding of the float32 sums, a relative 1e-6 of the
        # direction, changes the loss of a step by far less than the step gains.
        mean_sq = float(self.mean @ self.mean)
        spread = float(sw @ K.diagonal()) / self.mass - mean_sq
        self.fast_products = (
            not sp.issparse(X) and X.dtype == np.float32 and mean_sq <= max(spread, 0.0)
        )
        a = self._X_dot(self.mean[:, None], exact=True).ravel()
        K -= a[:, None]
        K -= a[None, :]
        K += float(self.mean @ self.mean)
        K *= 0.5 * self.root[:, None] * self.root[None, :]
        K[np.arange(n), np.arange(n)] += self.alpha
        self.factor = _robust_cholesky(K)

    def _centre(self, X, sw):
        self.X, self.root = X, np.sqrt(sw)
        self.mass = float(sw.sum())
        if self.fit_intercept:
            self.mean = _weighted_column_sum(X, sw) / self.mass  # xbar
        else:
            self.mean = np.zeros(self.d)

    # ------------------------------------------------------------ lowrank
    def _build_lowrank(self, X, sw):
        """Randomized Nystrom approximation ``C ~ U diag(lam) U^T`` of ``C = V^T V``.

        One pass over the row blocks of ``X`` computes ``Y = C Omega`` for a
        random orthonormal ``Omega`` of ``k`` columns (two products per block,
        in the dtype of ``X``); ``PGD_POWER_ITER`` more passes replace
        ``Omega`` by an orthonormal basis of ``Y`` (a power iteration), and the
        stable Nystrom construction of Tropp et al. (2017) turns ``(Omega, Y)``
        into eigenpairs.
        """
        self._centre(X, sw)
        d = self.d
        k = min(PGD_RANK, d)
        dtype = np.float32 if X.dtype == np.float32 else np.float64
        rng = np.random.RandomState(0)  # fixed: 'pgd' stays deterministic
        omega, _ = np.linalg.qr(rng.standard_normal((d, k)))
        Y = self._covariance_dot(omega, sw, dtype)
        _check_bound_finite(Y)
        for _ in range(PGD_POWER_ITER):  # sharpen the subspace: Omega <- orth(C Omega)
            omega, _ = np.linalg.qr(Y)
            Y = self._covariance_dot(omega, sw, dtype)
        nu = np.sqrt(d) * np.finfo(dtype).eps * max(np.linalg.norm(Y), np.finfo(float).tiny)
        Y += nu * omega
        B = omega.T @ Y
        L = np.linalg.cholesky(0.5 * (B + B.T))
        F = scipy.linalg.solve_triangular(L, Y.T, lower=True, check_finite=False).T
        U, sigma, _ = scipy.linalg.svd(F, full_matrices=False, check_finite=False)
        lam = np.maximum(sigma**2 - nu, 0.0)
        self.U = U
        # the directions Omega did not reach get the smallest eigenvalue kept,
        # an estimate of the largest one left out (exact when k = d)
        inv = 1.0 / np.maximum(self.alpha + 0.5 * lam, 1e-6 * (self.alpha + 0.5 * lam[0]))
        self.inv_top = inv
        self.inv_tail = 0.0 if k == d else inv[-1]
        self.eigenvalues = lam

    def _covariance_dot(self, omega, sw, dtype):
        """``C Omega = V^T V Omega`` in one pass over the row blocks of X."""
        omega_x = omega.astype(dtype)
        shift = self.mean @ omega  # xbar^T Omega
        Y = np.zeros(omega.shape, dtype=np.float64)
        col = np.zeros(omega.shape[1], dtype=np.float64)
        for rows in _row_chunks(self.X.shape[0], self.chunk_size):
            block = self.X[rows]
            # P = D (X Omega - 1 xbar^T Omega); V^T V Omega = X^T P - xbar 1^T P
            P = (np.asarray(block @ omega_x, dtype=np.float64) - shift) * sw[rows, None]
            Y += np.asarray(block.T @ P.astype(dtype), dtype=np.float64)
            col += P.sum(axis=0)
        Y -= self.mean[:, None] * col[None, :]
        return Y

    def _apply_lowrank(self, H):
        """``A^{-1} H^T`` (rows of H), ``A ~ alpha I + 1/2 C`` in its low-rank form."""
        # inv_top on span(U), inv_tail on its complement: one product with U^T
        return (H @ self.U * (self.inv_top - self.inv_tail)) @ self.U.T + self.inv_tail * H

    def _X_dot(self, H, exact=False):
        """``X @ H`` in float64 for a (d, k) float64 H, one row block at a time.

        With ``fast_products`` (and not ``exact``), one float32 product instead.
        """
        if self.fast_products and not exact:
            return np.asarray(self.X @ H.astype(np.float32), dtype=np.float64)
        out = np.empty((self.X.shape[0], H.shape[1]), dtype=np.float64)
        for rows in _row_chunks(self.X.shape[0], self.chunk_size):
            out[rows] = _as_float64_rows(self.X, rows) @ H
        return out

    def _XT_dot(self, Z):
        """``X^T @ Z`` in float64 for an (S, k) float64 Z, one row block at a time.

        With ``fast_products``, one float32 product instead.
        """
        if self.fast_products:
            return np.asarray(self.X.T @ Z.astype(np.float32), dtype=np.float64)
        out = np.zeros((self.d, Z.shape[1]), dtype=np.float64)
        for rows in _row_chunks(self.X.shape[0], self.chunk_size):
            out += _as_float64_rows(self.X, rows).T @ Z[rows]
        return out

    def _woodbury(self, H):
        """``A^{-1} H^T`` (rows of H) for ``A = alpha I + 1/2 V^T V``, by Woodbury."""
        # V H^T = D^1/2 (X H^T - 1 xbar^T H^T), shape (S, T)
        VH = self.root[:, None] * (self._X_dot(H.T) - (H @ self.mean)[None, :])
        Z = scipy.linalg.cho_solve(self.factor, VH, check_finite=False)
        RZ = self.root[:, None] * Z
        VtZ = self._XT_dot(RZ) - self.mean[:, None] * RZ.sum(axis=0)[None, :]  # (d, T)
        return (H - 0.5 * VtZ.T) / self.alpha

    def _solve_centred(self, G_W, g_b):
        """``(u, beta) = M^{-1} (g_W, g_b)``: the Schur complement eliminates the intercept.

        ``u = A^{-1} (g_W - g_b xbar)`` with ``A = alpha I + 1/2 V^T V`` (the
        weighted, centred data), then ``beta = (2 g_b - m xbar^T u) / m``.
        """
        H = G_W - g_b[:, None] * self.mean[None, :] if self.fit_intercept else G_W
        U = self._woodbury(H) if self.form == "dual" else self._apply_lowrank(H)
        if not self.fit_intercept:
            return U, np.zeros_like(g_b)
        return U, (2 * g_b - self.mass * (U @ self.mean)) / self.mass

    def solve(self, grad_W, grad_b):
        """The preconditioned direction ``M^{-1} grad`` (one block per class)."""
        G = grad_W.astype(np.float64)
        gb = grad_b.astype(np.float64)
        if self.form in ("dual", "lowrank"):
            U, beta = self._solve_centred(G, gb)
            return U.astype(grad_W.dtype), beta.astype(grad_b.dtype)
        if self.fit_intercept:
            G = np.concatenate([G, gb[:, None]], axis=1)
        D = self._solve_primal(G)
        step_b = D[:, self.d].astype(grad_b.dtype) if self.fit_intercept else np.zeros_like(grad_b)
        return D[:, : self.d].astype(grad_W.dtype), step_b
