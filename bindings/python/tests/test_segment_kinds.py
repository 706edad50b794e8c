"""Model.segment on every kind of input returns that kind with the input's geometry, and the
labels of the Volume API (the M2G fixture weights, random: mechanics, not accuracy).
nibabel and SimpleITK are the independent judges of the geometry."""
import nibabel as nib
import numpy as np
import pytest
import SimpleITK as sitk

import cmfseg
from cmfseg import Model, Volume
from synthetic_case import AFFINE, FAST, NAMES, NX, NY, NZ, SPACING, WEIGHTS, voxels

ZYX = {name: voxels(m) for m, name in enumerate(NAMES)}


@pytest.fixture(scope="module")
def model():
    with Model.load(WEIGHTS) as m:
        yield m


@pytest.fixture(scope="module")
def expected(model):
    """Labels and probabilities (z, y, x) of the case through the Volume API."""
    volumes = {n: Volume.from_values((NX, NY, NZ), SPACING, v) for n, v in ZYX.items()}
    labels, probs, info = model.segment(**volumes, probabilities=True, **FAST)
    with labels:
        want = labels.to_numpy()
    want_probs = [p.to_numpy() for p in probs]
    for v in list(volumes.values()) + probs:
        v.close()
    return want, want_probs, info


def _nibabel(name):
    img = nib.Nifti1Image(ZYX[name].transpose(2, 1, 0), AFFINE)
    img.set_sform(AFFINE, code=2)
    img.set_qform(AFFINE, code=1)
    return img


def _simpleitk(name):
    img = sitk.GetImageFromArray(ZYX[name])
    img.SetSpacing(SPACING)
    img.SetOrigin((12.0, -40.0, 7.5))
    img.SetDirection((0.0, 1.0, 0.0, -1.0, 0.0, 0.0, 0.0, 0.0, 1.0))
    return img


def test_nibabel_in_nibabel_out(model, expected, tmp_path):
    inputs = {n: _nibabel(n) for n in NAMES}
    seg = model.segment(**inputs, probabilities=True, **FAST)
    assert isinstance(seg.labels, nib.Nifti1Image)
    assert seg.labels.get_data_dtype() == np.uint8
    np.testing.assert_array_equal(np.asanyarray(seg.labels.dataobj).transpose(2, 1, 0), expected[0])
    assert seg.info == expected[2]
    # Written and read back by nibabel: the input's grid.
    nib.save(seg.labels, str(tmp_path / "seg.nii.gz"))
    back = nib.load(str(tmp_path / "seg.nii.gz"))
    np.testing.assert_allclose(back.affine, inputs["t1"].affine, atol=1e-6)
    assert back.header.get_zooms() == inputs["t1"].header.get_zooms()
    assert back.header.get_sform(coded=True)[1] == 2 and back.header.get_qform(coded=True)[1] == 1
    assert len(seg.probabilities) == 4
    for p, want in zip(seg.probabilities, expected[1]):
        assert isinstance(p, nib.Nifti1Image) and p.get_data_dtype() == np.float32
        np.testing.assert_array_equal(np.asanyarray(p.dataobj).transpose(2, 1, 0), want)


def test_simpleitk_in_simpleitk_out(model, expected):
    inputs = {n: _simpleitk(n) for n in NAMES}
    seg = model.segment(**inputs, **FAST)
    assert isinstance(seg.labels, sitk.Image)
    assert seg.labels.GetPixelID() == sitk.sitkUInt8
    for attribute in ("GetOrigin", "GetSpacing", "GetDirection", "GetSize"):
        assert getattr(seg.labels, attribute)() == getattr(inputs["t1"], attribute)()
    np.testing.assert_array_equal(sitk.GetArrayFromImage(seg.labels), expected[0])
    assert seg.probabilities is None


@pytest.mark.parametrize("axes", ["xyz", "zyx"])
def test_arrays_in_the_same_axis_order(model, expected, axes):
    inputs = {n: v if axes == "zyx" else v.transpose(2, 1, 0) for n, v in ZYX.items()}
    seg = model.segment(**inputs, axes=axes, **FAST)
    assert seg.labels.shape == inputs["t1"].shape and seg.labels.dtype == np.uint8
    got = seg.labels if axes == "zyx" else seg.labels.transpose(2, 1, 0)
    np.testing.assert_array_equal(got, expected[0])


def test_paths_give_a_file_or_arrays(model, expected, tmp_path):
    paths = {}
    for n in NAMES:
        paths[n] = tmp_path / ("case_%s.nii.gz" % n)
        nib.save(_nibabel(n), str(paths[n]))
    out, prob = tmp_path / "seg.nii.gz", tmp_path / "prob.nii.gz"
    seg = model.segment(**paths, out=out, probabilities=prob, **FAST)
    assert seg.labels == out and seg.probabilities == prob and seg.info == expected[2]
    written = nib.load(str(out))
    np.testing.assert_array_equal(np.asanyarray(written.dataobj).transpose(2, 1, 0), expected[0])
    assert nib.load(str(prob)).shape == (NX, NY, NZ, 4)
    seg = model.segment(**paths, axes="xyz", **FAST)
    np.testing.assert_array_equal(seg.labels, np.asanyarray(written.dataobj))


def test_one_pair_of_nibabel_images(model):
    seg = model.segment(t2=_nibabel("t2"), flair=_nibabel("flair"), **FAST)
    assert seg.info["route"] == "branch_b"
    assert isinstance(seg.labels, nib.Nifti1Image)


def test_volumes_keep_the_tuple_api(model, expected):
    volumes = {n: Volume.from_values((NX, NY, NZ), SPACING, v) for n, v in ZYX.items()}
    labels, probs, info = model.segment(**volumes, **FAST)
    with labels:
        np.testing.assert_array_equal(labels.to_numpy(), expected[0])
    assert probs is None and info == expected[2]
    for v in volumes.values():
        v.close()


def test_bad_combinations_are_named(model, tmp_path):
    with pytest.raises(TypeError, match="of one kind"):
        model.segment(t1=_nibabel("t1"), t1ce=ZYX["t1ce"], axes="zyx", **FAST)
    with pytest.raises(ValueError, match="axes"):
        model.segment(t2=ZYX["t2"], flair=ZYX["flair"], **FAST)
    path = tmp_path / "t2.nii.gz"
    nib.save(_nibabel("t2"), str(path))
    with pytest.raises(ValueError, match="axes"):
        model.segment(t2=path, flair=path, **FAST)
    with pytest.raises(TypeError, match="out="):
        model.segment(t2=_nibabel("t2"), flair=_nibabel("flair"), out=tmp_path / "x.nii.gz")
    with pytest.raises(TypeError, match="probabilities"):
        model.segment(t2=path, flair=path, out=tmp_path / "x.nii.gz", probabilities=True)
    with pytest.raises(TypeError, match="probabilities"):
        model.segment(t2=_nibabel("t2"), flair=_nibabel("flair"), probabilities=tmp_path / "p")
    assert list(tmp_path.iterdir()) == [path]
    shifted = AFFINE.copy()
    shifted[0, 3] += 2
    moved = nib.Nifti1Image(ZYX["flair"].transpose(2, 1, 0), shifted)
    with pytest.raises(cmfseg.CmfsegError) as e:
        model.segment(t2=_nibabel("t2"), flair=moved, **FAST)
    assert e.value.status == 4 and "affines differ" in e.value.message
