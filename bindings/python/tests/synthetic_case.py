"""The synthetic case of the segmentation tests: a small head with a tumour-like blob, and the
M2G fixture weights (random) that segment it quickly with FAST."""
import numpy as np

from conftest import FIXTURES

NX, NY, NZ = 40, 36, 32
SPACING = (1.0, 1.1, 1.2)
AFFINE = np.array([[1, 0.02, 0, -30], [-0.02, 1.1, 0, -40], [0, 0, 1.2, -20], [0, 0, 0, 1]])
NAMES = ("t1", "t1ce", "t2", "flair")
FAST = {"patch": 32}
WEIGHTS = [FIXTURES / "pytorch" / ("m2g_rand_%s.safetensors" % part)
           for part in ("net0", "net1", "fusion")]


def voxels(m):
    """Modality m (0..3, in NAMES order) of a synthetic head: an ellipsoid with texture and a
    bright blob, as an array of shape (nz, ny, nx)."""
    z, y, x = np.meshgrid(np.arange(NZ), np.arange(NY), np.arange(NX), indexing="ij")
    cx, cy, cz = NX / 2, NY / 2, NZ / 2
    brain = ((x - cx) / (0.45 * NX)) ** 2 + ((y - cy) / (0.45 * NY)) ** 2 \
        + ((z - cz) / (0.45 * NZ)) ** 2 <= 1
    blob = ((x - 1.2 * cx) / 6) ** 2 + ((y - 0.9 * cy) / 5) ** 2 + ((z - cz) / 5) ** 2 <= 1
    texture = 15 * np.sin(x * (m + 2) / 5) + 10 * np.cos((y + z * (m + 1)) / 4)
    v = 100 + 10 * m + texture + (80 if m >= 2 else 40) * blob
    return np.where(brain, v, 0).astype(np.float32)
