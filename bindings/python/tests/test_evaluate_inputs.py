"""cmfseg.evaluate on every kind of input — paths, nibabel images, SimpleITK images, arrays in
either axis order, Volumes — gives the numbers of MedPy/panoptica
(Tests/Fixtures/eval_expected.json) and of `cmfseg evaluate --json`, on the 1 mm fixtures and
on an anisotropic rewrite of them; nibabel and SimpleITK read the files independently."""
import json
import math
import subprocess

import nibabel as nib
import numpy as np
import pytest
import SimpleITK as sitk

import cmfseg
from conftest import FIXTURES, LABELS, is_close

EXPECTED = json.loads((FIXTURES / "eval_expected.json").read_text())
CASE = "step3000"  # in both the 1 mm and the anisotropic oracle
ANISO = EXPECTED["anisotropic"][CASE]


def _paths(folder, case=CASE):
    return folder / (case + "_ref.nii.gz"), folder / (case + "_pred.nii.gz")


def _as_kind(kind, path):
    """The label map of `path` as `kind`, read by nibabel or SimpleITK (not by the library)."""
    if kind == "path":
        return path
    if kind == "nibabel":
        return nib.load(str(path))
    if kind == "simpleitk":
        return sitk.ReadImage(str(path))
    xyz = np.asanyarray(nib.load(str(path)).dataobj)
    return xyz if kind == "xyz" else np.ascontiguousarray(xyz.transpose(2, 1, 0))


KINDS = ["path", "nibabel", "simpleitk", "xyz", "zyx"]


def _evaluate(ref_kind, pred_kind, ref_path, pred_path):
    ref, pred = _as_kind(ref_kind, ref_path), _as_kind(pred_kind, pred_path)
    arrays = {ref_kind, pred_kind} & {"xyz", "zyx"}
    if not arrays:
        return cmfseg.evaluate(ref, pred)
    zooms = tuple(float(z) for z in nib.load(str(ref_path)).header.get_zooms())
    both_arrays = ref_kind in ("xyz", "zyx") and pred_kind in ("xyz", "zyx")
    if both_arrays and ref_kind != pred_kind:  # one axis order per call: bring pred into ref's
        pred = pred.transpose(2, 1, 0)
    return cmfseg.evaluate(ref, pred, axes=ref_kind if ref_kind in arrays else pred_kind,
                           spacing=zooms if both_arrays else None)


def _check_oracle(got, want, rel):
    """Against MedPy/panoptica: counts exact, real numbers to a relative tolerance."""
    for region in ("WT", "TC", "ET"):
        for key in ("dice", "sensitivity", "specificity", "volume_ref_mm3", "volume_pred_mm3",
                    "hd95", "hd", "assd", "nsd"):
            assert is_close(got[region][key], want[region][key],
                            rel * max(1.0, abs(want[region][key]))), (region, key)
        for key in ("tp", "fp", "fn"):
            assert got[region]["lesion"][key] == want[region]["lesion"][key], (region, key)
        for key in ("rq", "sq_dsc", "pq"):
            assert is_close(got[region]["lesion"][key], want[region]["lesion"][key], 1e-9)


def _same(a, b):
    """Two result dicts with identical numbers (NaN equal to NaN)."""
    assert a.keys() == b.keys()
    for region in a:
        for key, value in a[region].items():
            if key == "lesion":
                _same({"lesion": value}, {"lesion": b[region]["lesion"]})
            else:
                assert is_close(value, b[region][key], 0), (region, key, value, b[region][key])


@pytest.fixture(scope="module")
def anisotropic(tmp_path_factory):
    """The fixture pair rewritten by nibabel with the oracle's anisotropic zooms (the affine
    scaled to match), and `cmfseg evaluate --json` on it."""
    folder = tmp_path_factory.mktemp("anisotropic")
    for src, dst in zip(_paths(LABELS), _paths(folder)):
        img = nib.load(str(src))
        affine = img.affine @ np.diag(list(ANISO["spacing"]) + [1.0])
        out = nib.Nifti1Image(np.asanyarray(img.dataobj), affine, img.header)
        out.header.set_zooms(ANISO["spacing"])
        nib.save(out, str(dst))
    return folder


@pytest.fixture(scope="module")
def cli_scores(cli, anisotropic):
    ref, pred = _paths(anisotropic)
    text = subprocess.run([str(cli), "evaluate", "--ref", str(ref), "--pred", str(pred), "--json"],
                          check=True, capture_output=True, text=True).stdout
    nulls_as_nan = json.loads(text, object_hook=lambda d: {k: math.nan if v is None else v
                                                           for k, v in d.items()})
    return nulls_as_nan


@pytest.mark.parametrize("ref_kind", KINDS)
@pytest.mark.parametrize("pred_kind", ["path", "nibabel", "simpleitk", "zyx"])
def test_every_kind_gives_the_reference_tools_numbers(ref_kind, pred_kind):
    got = _evaluate(ref_kind, pred_kind, *_paths(LABELS))
    _check_oracle(got, EXPECTED["cases"][CASE], 1e-9)


@pytest.mark.parametrize("kind", KINDS)
def test_anisotropic_spacing_reaches_the_metrics(kind, anisotropic, cli_scores):
    got = _evaluate(kind, kind, *_paths(anisotropic))
    _same(got, cli_scores)
    # The file's zooms are float32 (1.2 is 1.2000000477), the oracle's spacing exact.
    _check_oracle(got, ANISO, 1e-6)


def test_array_spacing_is_x_y_z_in_mm():
    ref, pred = (_as_kind("zyx", p) for p in _paths(LABELS))
    got = cmfseg.evaluate(ref, pred, axes="zyx", spacing=ANISO["spacing"])
    _check_oracle(got, ANISO, 1e-9)  # exact spacing: MedPy's numbers to rounding
    swapped = cmfseg.evaluate(ref, pred, axes="zyx", spacing=ANISO["spacing"][::-1])
    assert swapped["WT"]["hd95"] != got["WT"]["hd95"]


def test_volume_inputs(anisotropic, cli_scores):
    ref, pred = (cmfseg.Volume.read(p) for p in _paths(anisotropic))
    with ref, pred:
        _same(cmfseg.evaluate(ref, pred), cli_scores)


def test_images_on_different_grids_are_a_shape_error_unless_ignored(anisotropic):
    one_mm = nib.load(str(_paths(LABELS)[0]))
    aniso_pred = nib.load(str(_paths(anisotropic)[1]))
    with pytest.raises(cmfseg.CmfsegError) as e:
        cmfseg.evaluate(one_mm, aniso_pred)
    assert e.value.status == 4 and "spacing" in e.value.message
    # As for files: the reference's spacing is used.
    want = cmfseg.evaluate_files(_paths(LABELS)[0], _paths(anisotropic)[1], ignore_geometry=True)
    _same(cmfseg.evaluate(one_mm, aniso_pred, ignore_geometry=True), want)
    shifted = sitk.ReadImage(str(_paths(LABELS)[1]))
    shifted.SetOrigin((0.0, 0.0, 3.0))
    with pytest.raises(cmfseg.CmfsegError) as e:
        cmfseg.evaluate(one_mm, shifted)
    assert e.value.status == 4 and "affines differ by up to 3 mm" in e.value.message


def test_nibabel_and_simpleitk_agree_on_where_voxels_are():
    """RAS (NIfTI) and LPS (ITK) affines of one file are the same grid."""
    ref, pred = _paths(LABELS)
    mixed = cmfseg.evaluate(nib.load(str(ref)), sitk.ReadImage(str(pred)))
    _check_oracle(mixed, EXPECTED["cases"][CASE], 1e-9)


def test_bad_inputs_are_named():
    ref, pred = (_as_kind("zyx", p) for p in _paths(LABELS))
    with pytest.raises(ValueError, match="axes"):
        cmfseg.evaluate(ref, pred, spacing=(1, 1, 1))
    with pytest.raises(ValueError, match="axes"):
        cmfseg.evaluate(ref, pred, axes="yxz", spacing=(1, 1, 1))
    with pytest.raises(ValueError, match="spacing"):
        cmfseg.evaluate(ref, pred, axes="zyx")
    with pytest.raises(ValueError, match="three sizes"):
        cmfseg.evaluate(ref, pred, axes="zyx", spacing=(1, 1))
    with pytest.raises(ValueError, match="axes= describes arrays"):
        cmfseg.evaluate(*_paths(LABELS), axes="xyz")
    with pytest.raises(ValueError, match="images carry their own"):
        cmfseg.evaluate(*_paths(LABELS), spacing=(1, 1, 1))
    with pytest.raises(TypeError, match="pred must be a path"):
        cmfseg.evaluate(ref, [[[0]]], axes="zyx", spacing=(1, 1, 1))
    with pytest.raises(cmfseg.CmfsegError) as e:
        cmfseg.evaluate(ref, pred[:-1], axes="zyx", spacing=(1, 1, 1))
    assert e.value.status == 4
    halves = pred.astype(np.float32)
    halves[0, 0, 0] = 0.5
    with pytest.raises(ValueError, match="integer labels"):
        cmfseg.evaluate(ref, halves, axes="zyx", spacing=(1, 1, 1))
    wrapped = pred.astype(np.int32)
    wrapped[0, 0, 0] = 256  # uint8 would make it 0
    with pytest.raises(ValueError, match="integer labels"):
        cmfseg.evaluate_arrays(ref, wrapped)
