"""Shared test fakes and references (``from conftest import ...``).

* ``write_fake_cifar``: writes a tiny CIFAR-10 copy in the official
  "python version" layout (planar uint8 rows, bytes keys, protocol 2);
* ``reference_response``: the complex response of an image to a kernel by an
  explicit ``scipy.ndimage`` convolution, the independent reference that the
  FFT engine is tested against.
"""

import pickle

import numpy as np
from scipy import ndimage as ndi
from scipy.signal import convolve2d

CIFAR_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
               "ship", "truck"]  # fmt: skip


def write_fake_cifar(folder, n_per_batch=40, with_test=True, seed=0):
    """Write ``data_batch_1``-``5`` (and ``test_batch``) and ``batches.meta`` to ``folder``.

    Batch ``b`` labels its images ``(i + b) % 10``, so every batch holds every class
    once ``n_per_batch >= 10``.
    """
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    names = [f"data_batch_{i}" for i in range(1, 6)] + (["test_batch"] if with_test else [])
    for b, name in enumerate(names):
        batch = {
            b"batch_label": name.encode(),
            b"labels": [(i + b) % 10 for i in range(n_per_batch)],
            b"data": rng.integers(0, 256, size=(n_per_batch, 3072), dtype=np.uint8),
            b"filenames": [b"img_%d.png" % i for i in range(n_per_batch)],
        }
        with open(folder / name, "wb") as f:
            pickle.dump(batch, f, protocol=2)
    meta = {b"label_names": [c.encode() for c in CIFAR_NAMES], b"num_vis": 3072,
            b"num_cases_per_batch": n_per_batch}  # fmt: skip
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump(meta, f, protocol=2)
    return folder


def reference_response(img, kernel, mode):
    """Complex response ``img * kernel`` by explicit spatial convolution.

    ``scipy.ndimage.convolve`` of the real and imaginary kernels, except for
    'reflect' with a kernel half-size >= 4x the image side, where ndimage
    reads outside its buffer (scipy bug); there the periodic mirrored
    extension is built with ``np.pad(mode='symmetric')``.
    """
    py, px = (np.array(kernel.shape) - 1) // 2
    if mode == "reflect" and (py >= 4 * img.shape[0] or px >= 4 * img.shape[1]):
        padded = np.pad(img, ((py, py), (px, px)), mode="symmetric")
        return convolve2d(padded, kernel, mode="valid")
    return ndi.convolve(img, kernel.real, mode=mode) + 1j * ndi.convolve(
        img, kernel.imag, mode=mode
    )

