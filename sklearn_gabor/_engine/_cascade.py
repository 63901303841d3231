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


def build_cascade(paths, kernels, shape, mode, max_strides, demodulate=False):
    """Plans of every path's second layer, on the first layer's full-resolution maps
    (``demodulate``: see :func:`~._plan.build_plan`; the cascade keeps moduli only)."""
    return tuple(
        CascadeStep(path, build_plan([kernels[j] for j in path.second], shape, mode, max_strides,
                                     demodulate=demodulate))
        for path in paths
    )


def run_cascade(steps, U, slots, pooling, out, workers):
    """Write the pooled second-order features of every path into ``out``.

    ``U[:, c, slots[k]]`` is the first-order modulus map ``|I_c * g_k|`` of
    kernel ``k`` at full resolution, ``(B, C, n, H, W)``; ``out`` is the
    second-order view ``(B, n_pairs, C, gh, gw, n_stats)`` of the layout.
    """
    B, C, _, H, W = U.shape
    for step in steps:
        first = step.path.first
        src = U[:, :, slots[first]].reshape(B, C * len(first), H, W)
        pool = pooling.means if step.plan.demodulated else pooling
        for filters, stride, resp in step.plan.responses(src, workers):
            pooled = pool(np.abs(resp), stride)
            pooled = pooled.reshape((B, C, len(first)) + pooled.shape[2:])
            for a in range(len(first)):
                cols = step.path.pair_index(a, filters)
                out[:, cols] = pooled[:, :, a].transpose(0, 2, 1, 3, 4, 5)
