"""The epoch loop of :class:`~sklearn_gabor.GDSoftmaxClassifier`.

:func:`_loss_grad` is the loss and its gradient; :class:`_Run` is one call to
``fit`` or ``partial_fit``: the epochs on working copies of ``W`` and ``b``,
recorded in the :class:`~sklearn_gabor._optim._TrainingState` that persists
between calls, with what only this call tracks in a
:class:`~sklearn_gabor._optim._CallState`. The helpers before it prepare the
training rows: validation split, weight checks, float64 normalization.
"""

import math
import time

import numpy as np
import scipy.sparse as sp
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state, gen_batches
from sklearn.utils.extmath import safe_sparse_dot

from ._optim import _BoundPreconditioner, _CallState
from .exceptions import DivergenceError


def _max_abs(*arrays):
    """``max_i |a_i|`` over the concatenated arrays: the gradient's infinity norm.

    The stopping rule of 'gd', 'pgd' and 'apgd', as in scikit-learn's lbfgs
    (``gtol``). Non-finite entries give a non-finite result.
    """
    top = 0.0
    for a in arrays:
        if a.size:
            m = float(np.max(np.abs(a)))
            if not np.isfinite(m):  # inf or NaN, whatever the other arrays hold
                return m
            top = max(top, m)
    return top


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
    if not sp.issparse(X) and X.shape[0] > 2 * FUSED_ROWS:
        return _loss_grad_by_rows(W, b, X, y_idx, sample_weight, alpha, fit_intercept)
    loss, P = _loss_residual(W, b, X, y_idx, sample_weight, fit_intercept)
    if sp.issparse(X):
        grad_W = np.asarray(safe_sparse_dot(X.T, P).T)
    else:
        grad_W = P.T @ X
    grad_W += alpha * W
    grad_b = P.sum(axis=0) if fit_intercept else np.zeros_like(b)
    return loss + 0.5 * alpha * float(np.vdot(W, W)), grad_W, grad_b


#: dense X with more rows than twice this is processed this many rows at a time
#: (each block's two products while it is fresh): about 15 % faster per epoch
#: on 10,000 x 24,976 float32 (10 classes) than two products over all of X
FUSED_ROWS = 1024


def _loss_grad_by_rows(W, b, X, y_idx, sample_weight, alpha, fit_intercept):
    """:func:`_loss_grad` over blocks of ``FUSED_ROWS`` rows, summed (dense X)."""
    grad_W = np.zeros_like(W)
    grad_b = np.zeros_like(b)
    loss = 0.0
    for start in range(0, X.shape[0], FUSED_ROWS):
        rows = slice(start, start + FUSED_ROWS)
        part, P = _loss_residual(W, b, X[rows], y_idx[rows], sample_weight[rows], fit_intercept)
        loss += part
        grad_W += P.T @ X[rows]
        if fit_intercept:
            grad_b += P.sum(axis=0)
    grad_W += alpha * W
    return loss + 0.5 * alpha * float(np.vdot(W, W)), grad_W, grad_b


def _loss_residual(W, b, X, y_idx, sample_weight, fit_intercept):
    """The data term ``sum_s w_s H(onehot(y_s), p_s)`` and ``G = diag(w) (P - Y)``."""
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
    loss = -float(sample_weight @ log_p_true)
    # G = diag(w) (P - Y): softmax probabilities minus the one-hot targets
    P /= norm[:, None]
    P[rows, y_idx] -= 1
    P *= sample_weight[:, None]
    return loss, P


def _scaled(weights):
    """``weights / max(weights)`` (float64), so that sums and products cannot overflow."""
    top = float(weights.max(initial=0.0))
    return weights / top if top > 0 else weights


def _normalized_weights(sample_weight, dtype):
    """Weights summing to one (the ``1/S`` of the mean), normalized in float64, then cast."""
    return (sample_weight / sample_weight.sum()).astype(dtype, copy=False)


def _validation_split(X, y_idx, sw, classes, fraction, random_state):
    """Hold out ``fraction`` of the rows, stratified when every class allows it."""
    n, counts = len(y_idx), np.bincount(y_idx, minlength=len(classes))
    weighted = np.bincount(y_idx, weights=sw, minlength=len(classes)) > 0
    n_val = int(np.ceil(fraction * n))
    if n - n_val < 1:
        raise ValueError(
            f"early_stopping=True with validation_fraction={fraction} holds out all "
            f"{n} samples: nothing is left to train on."
        )
    stratified = counts.min() >= 2 and min(n_val, n - n_val) >= len(classes)
    X, X_val, y_idx, y_val, sw, _ = train_test_split(
        X, y_idx, sw, test_size=n_val, random_state=check_random_state(random_state),
        stratify=y_idx if stratified else None,
    )
    if weighted.any() and not np.any(sw > 0):
        raise ValueError(
            "All the sample_weight is on the rows held out for validation: with "
            f"early_stopping=True and validation_fraction={fraction}, the training "
            "rows all have weight 0. Give weight to more rows or set early_stopping=False."
        )
    lost = np.flatnonzero(weighted & (np.bincount(y_idx, weights=sw, minlength=len(classes)) == 0))
    if lost.size:
        raise ValueError(
            f"early_stopping=True (validation_fraction={fraction}) leaves no training "
            f"sample with non-zero sample_weight of class(es) {classes[lost].tolist()} "
            f"(samples per class: {dict(zip(classes.tolist(), counts.tolist()))}): they "
            "went to validation. Give those classes more samples or set early_stopping=False."
        )
    return (X, y_idx, sw), (X_val, y_val)


def _check_training_weights(sw, y_idx, n_classes, incremental):
    if not np.any(sw > 0):
        raise ValueError("sample_weight sums to zero: there is nothing to fit.")
    present = np.bincount(y_idx, weights=sw, minlength=n_classes) > 0
    if not incremental and present.sum() < 2:
        raise ValueError(
            "Only one class has a non-zero sample weight: at least 2 classes "
            "must carry weight to fit a classifier."
        )


def _rose(loss, last, dtype):
    """Whether ``loss`` is above ``last`` by more than rounding (16 ulps)."""
    return loss > last + 16 * np.finfo(dtype).eps * max(1.0, abs(last))


class _Acceleration:
    """Nesterov's extrapolation of 'apgd', with adaptive restart.

    From the point ``y_k`` where the gradient was taken, the preconditioned
    step gives ``x_{k+1} = y_k - eta M^{-1} grad L(y_k)``, and the next
    gradient is taken at

    ``y_{k+1} = x_{k+1} + (t_k - 1) / t_{k+1} (x_{k+1} - x_k)``,
    ``t_{k+1} = (1 + sqrt(1 + 4 t_k^2)) / 2``, ``t_0 = 1``

    (Nesterov 1983; Beck & Teboulle 2009). The momentum restarts (``t = 1``,
    no extrapolation) when the step points uphill of the last one,
    ``grad L(y_k) . (x_{k+1} - x_k) > 0`` (O'Donoghue & Candès 2015), and when
    an extrapolated point has a higher loss than the point before it: then
    training goes back to ``x_{k+1}``. Kept for one ``fit`` or
    ``partial_fit`` call only.
    """

    def __init__(self, W, b):
        self.x = (W.copy(), b.copy())  # x_k, the last plain step
        self.t = 1.0
        self.extrapolated = False  # whether the current point is y_k != x_k
        self.last_loss = np.inf

    def overshot(self, loss, dtype):
        """Whether the loss at an extrapolated point rose (or overflowed)."""
        return self.extrapolated and (not np.isfinite(loss) or _rose(loss, self.last_loss, dtype))

    def restart(self, W, b):
        """Go back to the last plain step ``x_k`` and drop the momentum."""
        W[...], b[...] = self.x
        self.t, self.extrapolated = 1.0, False

    def rebase(self, W, b):
        """Start the momentum afresh from ``(W, b)`` (after an undone step)."""
        self.x = (W.copy(), b.copy())
        self.t, self.extrapolated = 1.0, False

    def step(self, W, b, grads, directions, eta, loss):
        """Move ``(W, b)`` from ``y_k`` to ``y_{k+1}`` in place."""
        (gW, gb), (dW, db), (xW, xb) = grads, directions, self.x
        W -= eta * dW  # now x_{k+1}
        b -= eta * db
        xW -= W  # x_k - x_{k+1}
        xb -= b
        # the step goes uphill of the last one: restart
        uphill = np.vdot(gW, xW) + np.vdot(gb, xb) < 0
        t = 1.0 if uphill else (1 + math.sqrt(1 + 4 * self.t**2)) / 2
        beta = 0.0 if uphill else (self.t - 1) / t
        xW *= -beta  # beta (x_{k+1} - x_k)
        xb *= -beta
        xW += W
        xb += b
        W[...], xW[...] = xW, W.copy()  # y_{k+1}; x <- x_{k+1}
        b[...], xb[...] = xb, b.copy()
        self.t, self.last_loss, self.extrapolated = t, loss, beta > 0


class _Run:
    """One call to fit/partial_fit: the epoch loop, on working copies of W, b."""

    def __init__(self, est, data, W, b, state):
        self.est = est
        self.X, self.y_idx, self.sw, self.X_val, self.y_val = data
        self.W, self.b = W, b
        self.state = state
        # solver='pgd': the fixed preconditioner M, built once per call
        self.call = _CallState(
            precond=_BoundPreconditioner(self.X, self.sw, est.alpha, est.fit_intercept)
            if est.solver in ("pgd", "apgd") else None,
            accel=_Acceleration(W, b) if est.solver == "apgd" else None,
        )

    def _loss_grad(self, X, y_idx, sw):
        est = self.est
        with np.errstate(over="ignore", invalid="ignore"):
            return _loss_grad(self.W, self.b, X, y_idx, sw, est.alpha, est.fit_intercept)

    def _diverged(self, loss, what="loss"):
        est = self.est
        if self.state.schedule.can_shrink:
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
            f"The {what} became {loss} at epoch {self.state.n_iter + 1} with learning_rate="
            f"{est._learning_rate()} (schedule={est.learning_rate_schedule!r}): "
            f"gradient descent diverged; {hint}"
        )

    def train(self, max_iter, incremental):
        """Run up to ``max_iter`` epochs; Ctrl-C stops them and keeps the weights so far."""
        try:
            for _ in range(max_iter):
                if self._epoch(incremental) and not incremental:
                    break
            else:
                self.call.not_converged = not incremental
        except KeyboardInterrupt:
            self.call.interrupted = True
        if self.call.best_weights is not None:
            self.W, self.b = self.call.best_weights

    def _epoch(self, incremental):
        """One epoch, recorded in the training state; returns whether to stop."""
        est, state = self.est, self.state
        state.schedule.epoch_starts(state.n_iter)
        t0 = time.perf_counter()
        # overflow is detected (non-finite loss or parameters) and reported
        with np.errstate(over="ignore", invalid="ignore"):
            if est.solver in ("gd", "pgd", "apgd"):
                loss, grad_norm, stop = self._gd_epoch(incremental)
            else:
                (loss, stop), grad_norm = self._stochastic_epoch(), None
        state.n_iter += 1
        state.t += self.X.shape[0]
        state.loss_curve.append(loss)
        if grad_norm is not None:
            state.grad_norm_curve.append(grad_norm)
        if self.X_val is not None:
            stop = self._validate() or stop
        if est.verbose:
            gn = f", max |grad| = {grad_norm:.3g}" if grad_norm is not None else ""
            print(
                f"Epoch {state.n_iter}, loss = {loss:.6g}{gn}, learning rate = "
                f"{state.schedule.learning_rate:.3g}, time = {time.perf_counter() - t0:.3f}s"
            )
        return stop

    def _gd_epoch(self, incremental):
        """One full-batch step; returns (loss, gradient norm, stop)."""
        est, call = self.est, self.call
        schedule, optimizer = self.state.schedule, self.state.optimizer
        loss, gW, gb = self._loss_grad(self.X, self.y_idx, self.sw)
        acc = call.accel
        if acc is not None and acc.overshot(loss, self.W.dtype):
            # 'apgd': the extrapolation raised the loss; restart from the last
            # plain step x_k, whose loss is evaluated next epoch
            acc.restart(self.W, self.b)
            return loss, _max_abs(gW, gb), False
        prev = call.previous  # from this call only: same data, comparable loss
        setback = not np.isfinite(loss) or (
            prev is not None and schedule.can_shrink and _rose(loss, prev[0], self.W.dtype)
        )
        if setback:
            if not schedule.can_shrink or prev is None:
                raise self._diverged(loss)
            # undo the last step and retry from there with a 5x smaller rate
            loss, W, b, gW, gb = prev
            self.W[...] = W
            self.b[...] = b
            if acc is not None:
                acc.rebase(self.W, self.b)
            if not schedule.shrink():
                grad_norm = _max_abs(gW, gb)
                if grad_norm >= est.tol:
                    call.gave_up = (
                        f"after repeated loss increases, with the largest gradient entry "
                        f"{grad_norm:.3g} still above tol={est.tol:g}"
                    )
                return loss, grad_norm, True
        grad_norm = _max_abs(gW, gb)
        if not np.isfinite(grad_norm):
            raise self._diverged(grad_norm, what="largest gradient entry")
        if grad_norm < est.tol and not incremental:
            return loss, grad_norm, True
        if schedule.can_shrink and not incremental:
            call.previous = (loss, self.W.copy(), self.b.copy(), gW, gb)
        if call.precond is None:
            optimizer.step([self.W, self.b], [gW, gb], schedule.learning_rate)
            return loss, grad_norm, False
        # 'pgd' and 'apgd': the direction M^{-1} grad L
        dW, db = call.precond.solve(gW, gb)
        if acc is None:
            optimizer.step([self.W, self.b], [dW, db], schedule.learning_rate)
        else:
            acc.step(self.W, self.b, (gW, gb), (dW, db), schedule.learning_rate, loss)
        return loss, grad_norm, False

    def _stochastic_epoch(self):
        """One pass of mini-batch updates; returns (mean loss, stop)."""
        est, schedule, optimizer = self.est, self.state.schedule, self.state.optimizer
        n = self.X.shape[0]
        batch_size = min(200, n) if est.batch_size == "auto" else min(est.batch_size, n)
        order = self.state.rng.permutation(n) if est.shuffle else None
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
                return self._undo_epoch(W0, b0, loss)
            total += mass * loss
            optimizer.step([self.W, self.b], [gW, gb], schedule.learning_rate)
        if not np.all(np.isfinite(self.W)):
            return self._undo_epoch(W0, b0, np.nan)
        loss = float(total)
        return loss, self.X_val is None and self._no_progress(loss)

    def _undo_epoch(self, W0, b0, loss):
        """An epoch overflowed: restore its start and shrink the rate ('adaptive')."""
        if not self.state.schedule.can_shrink:
            raise self._diverged(loss)
        self.W[...], self.b[...] = W0, b0
        self.state.optimizer.reset()
        if self.state.schedule.shrink():
            return np.inf, False
        self.call.gave_up = "after the loss or the parameters kept overflowing"
        return np.inf, True

    def _no_progress(self, loss):
        """Count epochs without improving this call's best loss; return whether to stop."""
        call, est, schedule = self.call, self.est, self.state.schedule
        call.no_improvement = call.no_improvement + 1 if loss > call.best_loss - est.tol else 0
        call.best_loss = min(call.best_loss, loss)
        if call.no_improvement < est.n_iter_no_change:
            return False
        call.no_improvement = 0
        return not (schedule.can_shrink and schedule.shrink())

    def _validate(self):
        """Record the validation accuracy; keep the best weights; return stop."""
        call, tol = self.call, self.est.tol
        O = safe_sparse_dot(self.X_val, self.W.T)
        if self.est.fit_intercept:
            O += self.b
        score = float(np.mean(np.argmax(O, axis=1) == self.y_val))
        self.state.validation_scores.append(score)
        if score > call.best_validation + tol:
            call.best_validation = score
            call.best_weights = (self.W.copy(), self.b.copy())
            call.no_improvement_validation = 0
        else:
            call.no_improvement_validation += 1
        return call.no_improvement_validation >= self.est.n_iter_no_change
