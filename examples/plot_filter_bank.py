"""
=======================================
The Gabor filter bank and its responses
=======================================

A Gabor kernel is a complex sinusoid of frequency :math:`f` (cycles per
pixel) and orientation :math:`\\theta` under a Gaussian envelope whose width
follows from the bandwidth in octaves. Its real part responds to bars, its
imaginary part to edges, and the modulus of the complex response to both,
whatever the phase. We draw a bank, then the modulus responses of an image of
a digit and of a synthetic grating.
"""

# %%
# The bank
# --------
import matplotlib.pyplot as plt
import numpy as np
from scipy import ndimage

from sklearn_gabor import GaborTransformer
from sklearn_gabor.datasets import make_gratings
from sklearn_gabor.plotting import FilterBankDisplay

gabor = GaborTransformer(image_shape=(32, 32), frequencies=(0.1, 0.2, 0.4), n_orientations=4)
gabor.fit(np.zeros((1, 32 * 32)))
# Rows are frequencies (cycles per pixel), columns orientations; each panel
# is scaled to its own maximum, and the colour bar says what the colours mean.
FilterBankDisplay.from_estimator(gabor)  # real parts: even-symmetric "bar" detectors

# %%
# The imaginary parts are odd-symmetric "edge" detectors, and the modulus of
# the kernel is its Gaussian envelope: narrower for higher frequencies at a
# fixed bandwidth in octaves.
FilterBankDisplay.from_estimator(gabor, part="imag")
FilterBankDisplay.from_estimator(gabor, part="modulus", cmap="viridis")

# %%
# Responses of an image
# ---------------------
# The complex response ``r = image * g`` is a true convolution; we compute it
# here with :func:`scipy.ndimage.convolve` on the real and imaginary parts and
# show its modulus ``|r|``, on one colour scale for all maps. A grating lights
# up the filter that matches its orientation and frequency; the transformer then averages each map over a
# grid of cells (``pool_grid``) to get its features.
X, y = make_gratings(n_samples=1, image_shape=(32, 32), n_classes=4, noise=0.05,
                     random_state=1)
image = X[0].reshape(32, 32)

moduli = [
    np.abs(ndimage.convolve(image, k.real, mode="reflect")
           + 1j * ndimage.convolve(image, k.imag, mode="reflect"))
    for k in gabor.kernels_
]
vmax = max(m.max() for m in moduli)  # one colour scale for all the maps

fig, axes = plt.subplots(3, 5, figsize=(10, 5.6))
for row in range(3):
    axes[row, 0].imshow(image, cmap="gray")
    axes[row, 0].set_ylabel(f"f={gabor.kernel_params_[4 * row]['frequency']:g}\ncycles/pixel")
    for col in range(4):
        shown = axes[row, col + 1].imshow(moduli[4 * row + col], cmap="magma", vmin=0, vmax=vmax)
        if row == 0:
            axes[row, col + 1].set_title(f"θ={np.degrees(gabor.kernel_params_[col]['theta']):g}°")
for ax in axes.flat:
    ax.set_xticks([])
    ax.set_yticks([])
axes[0, 0].set_title("input")
fig.colorbar(shown, ax=axes[:, 1:].ravel().tolist(), shrink=0.8, label="|response| (one scale for all maps)")
fig.suptitle(f"|response| of a grating of class {y[0]} (orientation {45 * y[0]}°)")
plt.show()

# %%
# The pooled features
# -------------------
# With ``pool_grid=(2, 2)`` each of the 12 filters gives 4 numbers; the
# strongest ones belong to the matching orientation.
features = GaborTransformer(image_shape=(32, 32), frequencies=(0.1, 0.2, 0.4),
                            n_orientations=4, pool_grid=(2, 2)).fit(X)
F = features.transform(X)[0]
names = features.get_feature_names_out()
for i in np.argsort(F)[::-1][:4]:
    print(f"{names[i]:>30s}  {F[i]:.3f}")
