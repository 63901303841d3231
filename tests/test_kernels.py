"""gabor_kernel equals skimage.filters.gabor_kernel; gabor_bank layout."""

import itertools

import numpy as np
import pytest

skfilters = pytest.importorskip("skimage.filters")

from sklearn_gabor import gabor_bank, gabor_kernel  # noqa: E402
from sklearn_gabor._kernels import sigma_from_bandwidth  # noqa: E402

GRID = list(
    itertools.product(
        [0.05, 0.1, 0.25, 0.5],  # frequency
        [0.0, np.pi / 7, np.pi / 2, 2.5],  # theta
        [0.5, 1.0, 2.0],  # bandwidth
        [None, 2.5],  # sigma_x
        [None, 1.5],  # sigma_y
        [2, 3],  # n_stds
        [0.0, 1.0],  # offset
    )
)


@pytest.mark.parametrize("dtype", [np.complex128, np.complex64])
def test_gabor_kernel_matches_skimage_grid(dtype):
    for f, t, b, sx, sy, n, off in GRID:
        ours = gabor_kernel(f, t, b, sx, sy, n, off, dtype=dtype)
        ref = skfilters.gabor_kernel(f, t, b, sx, sy, n, off, dtype=dtype)
        assert ours.shape == ref.shape and ours.dtype == ref.dtype
        rtol = 1e-12 if dtype == np.complex128 else 1e-6
        np.testing.assert_allclose(ours, ref, rtol=rtol, atol=0)


def test_kernel_formula_and_bandwidth():
    f, b = 0.2, 1.0
    sigma = sigma_from_bandwidth(f, b)
    expected = np.sqrt(np.log(2) / 2) * 3 / (np.pi * f)  # (2 + 1) / (2 - 1) = 3
    assert sigma == pytest.approx(expected)
    k = gabor_kernel(f, 0.0, b)
    y0, x0 = (np.array(k.shape) - 1) // 2
    assert k[y0, x0] == pytest.approx(1 / (2 * np.pi * sigma**2))
    # along x at theta=0 the phase advances by 2 pi f per pixel
    assert np.angle(k[y0, x0 + 1]) == pytest.approx(2 * np.pi * f)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"frequency": 0}, "frequency"),
        ({"frequency": -0.1}, "frequency"),
        ({"frequency": 0.1, "bandwidth": 0}, "bandwidth"),
        ({"frequency": 0.1, "sigma_x": -1}, "sigma_x"),
        ({"frequency": 0.1, "dtype": np.float64}, "complex"),
    ],
)
def test_gabor_kernel_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        gabor_kernel(**kwargs)


def test_gabor_bank_order_and_params():
    kernels, params = gabor_bank([0.1, 0.3], 4, bandwidth=1.5, offset=0.2)
    assert len(kernels) == len(params) == 8
    for i, (k, p) in enumerate(zip(kernels, params)):
        assert p["frequency"] == [0.1, 0.3][i // 4]
        assert p["theta"] == pytest.approx((i % 4) * np.pi / 4)
        assert p["shape"] == k.shape
        ref = skfilters.gabor_kernel(
            p["frequency"], p["theta"], bandwidth=1.5, offset=0.2
        )
        np.testing.assert_allclose(k, ref, rtol=1e-12)
    kernels, params = gabor_bank(0.2, thetas=[0.0, 1.0])
    assert [p["theta"] for p in params] == [0.0, 1.0]
    with pytest.raises(ValueError, match="n_orientations"):
        gabor_bank(0.2, 0)
    with pytest.raises(ValueError, match="thetas"):
        gabor_bank(0.2, thetas=[np.nan])


@pytest.mark.parametrize(
    "kwargs", [dict(frequency=1e-9), dict(frequency=0.1, bandwidth=1e-6), dict(frequency=0.1, n_stds=1e6)]
)
def test_huge_kernel_is_a_clear_error(kwargs):
    """Parameters that imply an absurd kernel size fail before allocating it."""
    with pytest.raises(ValueError, match=r"would have \d+ x \d+ pixels .* raise frequency or bandwidth"):
        gabor_kernel(**kwargs)
