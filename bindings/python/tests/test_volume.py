import numpy as np
import nibabel as nib
import pytest

import cmfseg
from cmfseg.volume import Volume, UINT8, FLOAT32


def test_numpy_round_trip_keeps_axis_order(tmp_path):
    values = np.arange(4 * 3 * 2, dtype=np.float32).reshape(2, 3, 4)  # (nz, ny, nx)
    with Volume.from_values((4, 3, 2), (1.5, 2.0, 2.5), values) as v:
        assert v.shape == (4, 3, 2)
        assert v.spacing == (1.5, 2.0, 2.5)
        np.testing.assert_array_equal(v.to_numpy(), values)
        path = tmp_path / "v.nii.gz"
        v.write(path, FLOAT32)
    # nibabel is the independent reader: its array is indexed [i, j, k] = [x, y, z].
    img = nib.load(str(path))
    np.testing.assert_array_equal(np.asarray(img.dataobj).transpose(2, 1, 0), values)
    np.testing.assert_allclose(img.header.get_zooms()[:3], (1.5, 2.0, 2.5))


def test_labels_written_as_uint8(tmp_path):
    values = np.zeros((2, 2, 2), np.float32)
    values[1, 1, 1] = 4
    path = tmp_path / "seg.nii.gz"
    with Volume.from_values((2, 2, 2), values=values) as v:
        v.write(path, UINT8)
    img = nib.load(str(path))
    assert img.get_data_dtype() == np.uint8
    assert np.asarray(img.dataobj)[1, 1, 1] == 4


def test_non_integer_label_is_refused_and_nothing_written(tmp_path):
    path = tmp_path / "bad.nii.gz"
    with Volume.from_values((2, 1, 1), values=[0.0, 3.5]) as v:
        with pytest.raises(cmfseg.CmfsegError) as e:
            v.write(path, UINT8)
    assert e.value.status == 1
    assert not path.exists()
    assert list(tmp_path.iterdir()) == []


def test_missing_file_is_an_io_error(tmp_path):
    with pytest.raises(cmfseg.CmfsegError) as e:
        Volume.read(tmp_path / "missing.nii.gz")
    assert e.value.status == 2
    assert "missing.nii.gz" in e.value.message
