"""The left-right mirror symmetry of a Gabor bank."""

import numpy as np

__all__ = ["mirror_kernels"]


def mirror_kernels(params, tol=1e-9):
    """Index of the left-right mirror of every kernel of a bank, or None.

    Mirroring ``x -> -x`` maps the kernel ``(f, theta)`` onto ``(f, pi -
    theta)``, and the modulus of a real image's response depends on
    ``theta`` only modulo ``pi``. The mirror of kernel ``k`` is a kernel with
    the same frequency and envelope whose orientation equals ``pi - theta_k``
    modulo ``pi`` (to ``tol`` radians). The result is an involution
    (``m[m[k]] == k``); kernels that are their own mirror (0 and ``pi / 2``
    modulo ``pi``) map to themselves. Returns ``(None, theta)`` with the
    orientation of a kernel that has no mirror, else ``(mirror, None)``.
    """
    ang = np.array([prm["theta"] for prm in params]) % np.pi
    ang[np.pi - ang <= tol] = 0.0
    target = (np.pi - ang) % np.pi
    target[np.pi - target <= tol] = 0.0
    env = np.array([[prm["frequency"], prm["sigma_x"], prm["sigma_y"]] for prm in params])
    mirror = np.full(len(params), -1)
    for k in range(len(params)):
        if mirror[k] >= 0:
            continue
        diff = np.abs(ang - target[k])
        match = (
            (np.minimum(diff, np.pi - diff) <= tol)
            & np.all(np.isclose(env, env[k], rtol=1e-9, atol=0.0), axis=1)
        )
        if match[k]:
            mirror[k] = k
            continue
        free = np.flatnonzero(match & (mirror < 0))
        if free.size == 0:
            return None, params[k]["theta"]
        mirror[k], mirror[free[0]] = free[0], k
    return mirror, None
