"""The second-order cascade ``| |I * g1| * g2 |`` of a scattering transform."""

from dataclasses import dataclass, replace

import numpy as np

from ._plan import build_plan

__all__ = ["CascadeStep", "build_cascade", "run_cascade"]


@dataclass(frozen=True)
class CascadeStep:
    """One cascade path (see :class:`~._layout.CascadePath`) and the plan of
    its second-layer kernels (plan filter ``b`` is kernel ``path.second[b]``)."""

    path: object  # CascadePath
    plan: object  # FilterPlan

    def astype(self, dtype):
        return replace(self, plan=self.plan.astype(dtype))


#: the second layer's stride guard and band tolerance (see
#: :func:`~._plan.build_plan`): its kernels need only be unaliased on the
#: coarse grid (not their squared modulus), and a band may leave out 1e-5 of
#: a kernel's prior-weighted energy per axis instead of 1e-6 (the 0.2
#: kernels of the 0.4 path then run on a 16 x 16 grid, and most bands shrink,
#: 20 x 20 to 12 x 12 for instance). On 2,000 CIFAR-10 images the recipe's
#: cascade ran 1.28x faster with both (median of 5, interleaved), its features
#: within 5.9e-3 of the full-resolution ones (5.5e-3 before), and the
#: recipe's banks gave 72.14 % on the validation batch (72.20 % before).
SECOND_LAYER_GUARD = 1
SECOND_LAYER_BAND_TOL = 1e-5


def build_cascade(paths, kernels, shape, mode, max_strides, demodulate=False):
    """Plans of every path's second layer, on the first layer's full-resolution maps
    (``demodulate``: see :func:`~._plan.build_plan`; the cascade keeps moduli only)."""
    return tuple(
        CascadeStep(path, build_plan([kernels[j] for j in path.second], shape, mode, max_strides,
                                     demodulate=demodulate, guard=SECOND_LAYER_GUARD,
                                     band_tol=SECOND_LAYER_BAND_TOL))
        for path in paths
    )


#: maps filtered together by a demodulated second layer (maps on the last
#: axis, see :meth:`~._plan.FilterPlan.responses_last`): about 400 keep the
#: products of a band in a core's L2 cache
CASCADE_MAPS = 384


def run_cascade(steps, U, slots, pooling, out, workers):
    """Write the pooled second-order features of every path into ``out``.

    ``U[slots[k], :, :, b * C + c]`` is the first-order modulus map
    ``|I_bc * g_k|`` of kernel ``k`` at full resolution, ``(n_slots, H, W,
    n)`` (maps on the last axis, ``n >= B * C``); ``out`` is the second-order
    view ``(B, n_pairs, C, gh, gw, n_stats)`` of the layout. A demodulated path (modulus
    and means only) filters the maps of about CASCADE_MAPS // (B * C)
    first-layer kernels at a time, maps on the last axis.
    """
    _, H, W, n = U.shape  # n: the B * C maps, then zero maps up to a multiple of 16
    B, C = out.shape[0], out.shape[2]
    gh, gw = pooling.grid
    for step in steps:
        first = step.path.first
        A = len(first)
        rows = slots[first]
        if np.array_equal(rows, np.arange(rows[0], rows[0] + A)):
            src = U[rows[0] : rows[0] + A]  # a view: the path's maps are consecutive
        else:
            src = U[rows]
        if not step.plan.demodulated:
            src = src[..., : B * C].reshape(A, H, W, B, C).transpose(3, 4, 0, 1, 2)
            src = src.reshape(B, C * A, H, W)
            for filters, stride, resp in step.plan.responses(src, workers):
                pooled = pooling(np.abs(resp), stride)
                pooled = pooled.reshape((B, C, A) + pooled.shape[2:])
                for a in range(A):
                    cols = step.path.pair_index(a, filters)
                    out[:, cols] = pooled[:, :, a].transpose(0, 2, 1, 3, 4, 5)
            continue
        view = out[..., 0]  # (B, n_pairs, C, gh, gw): means only
        per = max(1, CASCADE_MAPS // n)  # first-layer kernels per chunk
        for a0 in range(0, A, per):
            a1 = min(a0 + per, A)
            for filters, stride, resp in step.plan.responses_last(src[a0:a1], workers):
                f = len(filters)  # resp: (a, f, Ho, Wo, n)
                pooled = pooling.means_last(np.abs(resp).reshape((-1,) + resp.shape[2:]), stride)
                pooled = pooled[..., : B * C].reshape(a1 - a0, f, gh, gw, B, C)
                cols = step.path.pair_index(np.arange(a0, a1)[:, None], filters[None, :])
                view[:, cols] = pooled.transpose(4, 0, 1, 5, 2, 3)  # (B, a, f, C, gh, gw)
