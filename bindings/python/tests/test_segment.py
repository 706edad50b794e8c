"""Model and segmentation through the binding, with the M2G fixture weights (random: these
tests check mechanics — labels, geometry, routes, errors, callbacks — not accuracy).
nibabel is the independent reader of the written files."""
import ctypes
import logging
import shutil
import subprocess
import threading

import nibabel as nib
import numpy as np
import pytest

import cmfseg
from cmfseg import Model, CancelFlag, Volume
from cmfseg.segment import _Call, _Info, _Params
from cmfseg.evaluation import _Params as _EvalParams
from conftest import FIXTURES
from synthetic_case import AFFINE, FAST, NAMES, NX, NY, NZ, SPACING, WEIGHTS, voxels


@pytest.fixture(scope="module")
def model():
    with Model.load(WEIGHTS) as m:
        yield m


@pytest.fixture(scope="module")
def case():
    vols = {name: Volume.from_values((NX, NY, NZ), SPACING, voxels(m))
            for m, name in enumerate(NAMES)}
    yield vols
    for v in vols.values():
        v.close()


@pytest.fixture
def case_files(tmp_path):
    paths = {}
    for m, name in enumerate(NAMES):
        paths[name] = tmp_path / ("case_%s.nii.gz" % name)
        img = nib.Nifti1Image(voxels(m).transpose(2, 1, 0), AFFINE)
        img.set_sform(AFFINE, code=2)
        img.set_qform(AFFINE, code=1)
        nib.save(img, str(paths[name]))
    return paths


def _labels(volume):
    return volume.to_numpy()


def test_structs_mirror_the_header(tmp_path):
    """sizeof and offsets of the ctypes structs equal a C compiler's for include/cmfseg.h."""
    cc = shutil.which("cc") or shutil.which("clang") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler to compare the struct layouts with")
    src = tmp_path / "layout.c"
    src.write_text('#include <stdio.h>\n#include <stddef.h>\n#include "cmfseg.h"\n'
                   "int main(void) { printf(\"%zu %zu %zu %zu %zu %zu %zu %zu %zu %zu %zu\\n\","
                   " sizeof(cmf_segment_params), sizeof(cmf_segment_info),"
                   " offsetof(cmf_segment_params, progress), offsetof(cmf_segment_params, cancel),"
                   " offsetof(cmf_segment_params, nonfinite_to_zero),"
                   " offsetof(cmf_segment_info, summary), offsetof(cmf_segment_params, max_bytes),"
                   " sizeof(cmf_eval_params), offsetof(cmf_eval_params, max_bytes),"
                   " offsetof(cmf_segment_params, precision), offsetof(cmf_segment_params, windows));"
                   " return 0; }\n")
    exe = tmp_path / "layout"
    subprocess.run([cc, "-I", str(FIXTURES.parents[1] / "include"), str(src), "-o", str(exe)],
                   check=True)
    want = [int(v) for v in subprocess.run([str(exe)], check=True, capture_output=True,
                                           text=True).stdout.split()]
    got = [ctypes.sizeof(_Params), ctypes.sizeof(_Info), _Params.progress.offset,
           _Params.cancel.offset, _Params.nonfinite_to_zero.offset, _Info.summary.offset,
           _Params.max_bytes.offset, ctypes.sizeof(_EvalParams), _EvalParams.max_bytes.offset,
           _Params.precision.offset, _Params.windows.offset]
    assert got == want


def test_default_params_come_from_the_library():
    p = _Call().params
    assert p.struct_size == ctypes.sizeof(_Params)
    assert (p.overlap, list(p.patch), p.tta, p.postprocess) == (0.5, [0, 0, 0], 0, 1)
    assert (p.min_et_voxels, p.min_core_voxels, p.connectivity, p.grouping_dilation) == (500, 10, 6, 2)
    assert p.min_component_fraction == pytest.approx(1 / 3)
    assert (p.small_et_to_ncr, p.nonfinite_to_zero, p.precision, p.windows) == (0, 0, 0, 0)
    assert not p.progress and not p.cancel
    assert _Call(precision="bf16").params.precision == 1
    with pytest.raises(ValueError, match="precision must be one of f32, bf16"):
        _Call(precision="fp8")
    assert _Call(windows="fitted").params.windows == 1
    with pytest.raises(ValueError, match="windows must be one of grid, fitted"):
        _Call(windows="tiles")
    q = _Call(patch=(32, 48, 64), tta=True, postprocess=False, min_et_voxels=0,
              small_et_to_ncr=True, nonfinite_to_zero=True, threads=2, overlap=0.25).params
    assert (list(q.patch), q.tta, q.postprocess, q.min_et_voxels) == ([32, 48, 64], 1, 0, 0)
    assert (q.small_et_to_ncr, q.nonfinite_to_zero, q.threads, q.overlap) == (1, 1, 2, 0.25)


def test_model_queries_and_close(model):
    assert model.architecture == "cmff-m2g"
    assert model.class_count == 4
    # the fixtures are a raw PyTorch export: the loader says what it inferred
    assert any("inferred from tensor names" in n for n in model.notes)
    assert model.metadata["architecture"] == "cmff-m2g"
    m = Model.load([str(p) for p in WEIGHTS])
    m.close()
    m.close()
    assert m.architecture is None and m.class_count == 0
    assert m.metadata == {} and m.notes == []


def test_segments_all_four_on_the_input_grid(model, case):
    labels, probs, info = model.segment(**case, probabilities=True, **FAST)
    with labels:
        assert labels.shape == (NX, NY, NZ)
        assert labels.spacing == pytest.approx(SPACING)
        assert labels.affine == case["t1"].affine
        values = _labels(labels)
    assert set(np.unique(values)) <= {0, 1, 2, 4}
    assert info["route"] == "fused"
    assert info["modalities"] == NAMES
    assert info["class_count"] == 4
    assert "CMFF fusion" in info["summary"]
    assert len(probs) == 4
    p = np.stack([v.to_numpy() for v in probs])
    for v in probs:
        assert v.shape == (NX, NY, NZ)
        v.close()
    np.testing.assert_allclose(p.sum(axis=0), 1, atol=1e-4)
    assert p[0, 0, 0, 0] == 1 and values[0, 0, 0] == 0  # outside the brain box
    # Without post-processing the labels are numpy's argmax of the probabilities, mapped
    # from the network's class order (background, edema, NCR/NET, ET) to label values.
    raw, _, _ = model.segment(**case, postprocess=False, **FAST)
    with raw:
        np.testing.assert_array_equal(_labels(raw), np.array([0, 2, 1, 4])[p.argmax(axis=0)])


def test_one_missing_pair_uses_the_other_branch_alone(model, case):
    labels, probs, info = model.segment(t2=case["t2"], flair=case["flair"], **FAST)
    labels.close()
    assert probs is None
    assert info["route"] == "branch_b"
    assert info["modalities"] == ("t2", "flair")
    assert "net_1 alone" in info["summary"] and "unavailable" in info["summary"]
    labels, _, info = model.segment(t1=case["t1"], t1ce=case["t1ce"], **FAST)
    with labels:
        assert set(np.unique(_labels(labels))) <= {0, 1, 2, 4}
    assert info["route"] == "branch_a"
    assert info["modalities"] == ("t1", "t1ce")


def test_half_pair_or_nothing_is_an_invalid_argument(model, case):
    with pytest.raises(cmfseg.CmfsegError) as e:
        model.segment(t1=case["t1"], t2=case["t2"], flair=case["flair"], **FAST)
    assert e.value.status == 1
    assert "without t1ce" in e.value.message
    with pytest.raises(cmfseg.CmfsegError) as e:
        model.segment(**FAST)
    assert e.value.status == 1


def test_files_are_written_with_the_input_geometry(model, case_files, tmp_path):
    out = tmp_path / "out" / "case_seg.nii.gz"
    out.parent.mkdir()
    prob = tmp_path / "out" / "case_prob.nii.gz"
    info = model.segment_files(**case_files, out=out, probabilities=prob, **FAST)
    assert info["route"] == "fused" and info["class_count"] == 4
    img = nib.load(str(out))
    assert img.get_data_dtype() == np.uint8
    assert img.shape == (NX, NY, NZ)
    np.testing.assert_allclose(img.affine, nib.load(str(case_files["t1"])).affine, atol=1e-6)
    assert info["summary"] in img.header["descrip"].tobytes().decode("ascii", "replace")
    written = np.asarray(img.dataobj).transpose(2, 1, 0)
    assert set(np.unique(written)) <= {0, 1, 2, 4}
    p = nib.load(str(prob))
    assert p.shape == (NX, NY, NZ, 4)
    np.testing.assert_allclose(np.asarray(p.dataobj).sum(axis=3), 1, atol=1e-4)
    # The same case in memory gives the same labels.
    vols = {n: Volume.read(path) for n, path in case_files.items()}
    labels, _, _ = model.segment(**vols, **FAST)
    with labels:
        np.testing.assert_array_equal(_labels(labels), written)
    for v in vols.values():
        v.close()
    # Without probabilities, and with one pair only.
    out_b = tmp_path / "out" / "b.nii.gz"
    info = model.segment_files(t2=case_files["t2"], flair=case_files["flair"], out=out_b, **FAST)
    assert info["route"] == "branch_b" and out_b.is_file()


def test_default_model_loads_and_a_missing_one_is_named(monkeypatch, tmp_path):
    model = Model.load_default()
    assert model.architecture == "cmff-m2g"
    meta = model.metadata
    assert meta["pairs"] == "t1,t1ce|t2,flair" and meta["class_values"] == "0,2,1,4"
    assert int(meta["training_steps"]) > 0 and meta["training_command"].startswith("cmfseg train cmff")
    assert list(meta) == sorted(meta)
    model.close()
    monkeypatch.setenv("CMFSEG_DATA_DIR", str(tmp_path))
    with pytest.raises(cmfseg.CmfsegError) as e:
        Model.load_default()
    assert e.value.status == 2
    assert "default model is missing" in e.value.message
    assert "models/cmfseg-default.safetensors" in e.value.message


def test_bad_weight_files_are_errors(tmp_path):
    with pytest.raises(cmfseg.CmfsegError) as e:
        Model.load([])
    assert e.value.status == 1
    with pytest.raises(cmfseg.CmfsegError) as e:
        Model.load(tmp_path / "missing.safetensors")
    assert e.value.status == 2 and "missing.safetensors" in e.value.message
    with pytest.raises(cmfseg.CmfsegError) as e:
        Model.load(FIXTURES / "pytorch" / "disc_dx5.safetensors")
    assert e.value.status == 7


def test_progress_increases_to_one(model, case):
    seen = []
    labels, _, _ = model.segment(t2=case["t2"], flair=case["flair"], progress=seen.append, **FAST)
    labels.close()
    assert seen[0] == 0 and seen[-1] == 1.0
    assert seen == sorted(seen) and len(seen) > 3


def test_progress_returning_false_aborts_and_writes_nothing(model, case_files, tmp_path):
    out = tmp_path / "seg.nii.gz"
    seen = []

    def stop_early(f):
        seen.append(f)
        return f < 0.2
    with pytest.raises(cmfseg.CmfsegError) as e:
        model.segment_files(**case_files, out=out, probabilities=tmp_path / "p.nii.gz",
                            progress=stop_early, **FAST)
    assert e.value.status == 6
    assert seen[-1] >= 0.2 and seen[-1] < 1
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in case_files.values())


@pytest.mark.parametrize("at", [0.0, 0.3, 1.0])
def test_exception_in_progress_aborts_cleanly(model, case, case_files, tmp_path, capfd, at):
    def boom(f):
        if f >= at:
            raise RuntimeError("stop here")
        return True
    with pytest.raises(RuntimeError, match="stop here"):
        model.segment(**case, progress=boom, probabilities=True, **FAST)
    out = tmp_path / "seg.nii.gz"
    with pytest.raises(RuntimeError, match="stop here"):
        model.segment_files(**case_files, out=out, progress=boom, **FAST)
    assert not out.exists()
    assert "Traceback" not in capfd.readouterr().err  # handled, not ctypes' "ignored" print
    labels, _, info = model.segment(**case, **FAST)  # the model still works
    labels.close()
    assert info["route"] == "fused"


def test_cancel_flag_and_event_abort(model, case):
    flag = CancelFlag()
    flag.set()
    with pytest.raises(cmfseg.CmfsegError) as e:
        model.segment(**case, cancel=flag, **FAST)
    assert e.value.status == 6
    event = threading.Event()
    seen = []

    def set_later(f):  # another party sets the event mid-run
        seen.append(f)
        if f > 0:
            event.set()
    with pytest.raises(cmfseg.CmfsegError) as e:
        model.segment(**case, cancel=event, progress=set_later, **FAST)
    assert e.value.status == 6 and seen[-1] < 1
    flag.clear()
    labels, _, _ = model.segment(**case, cancel=flag, **FAST)
    labels.close()
    # The library's own flag, set mid-run (as another thread would), read between calls.
    seen = []

    def set_flag(f):
        seen.append(f)
        if f > 0:
            flag.set()
    with pytest.raises(cmfseg.CmfsegError) as e:
        model.segment(**case, cancel=flag, progress=set_flag, **FAST)
    assert e.value.status == 6 and seen[-1] < 1
    assert "cancelled" in e.value.message  # the flag stopped it, not the progress return


def test_threads_share_one_model(model, case):
    """Concurrent segment calls (the GIL is released during them) give the serial result."""
    labels, _, _ = model.segment(**case, threads=1, **FAST)
    with labels:
        want = _labels(labels)
    results = [None] * 3

    def run(i):
        out, _, _ = model.segment(**case, threads=1, **FAST)
        with out:
            results[i] = _labels(out)
    workers = [threading.Thread(target=run, args=(i,)) for i in range(3)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    for got in results:
        np.testing.assert_array_equal(got, want)


def test_nonfinite_voxels(model, case):
    values = voxels(3)
    values[NZ // 2, NY // 2, NX // 2] = np.nan
    with Volume.from_values((NX, NY, NZ), SPACING, values) as nan_flair:
        with pytest.raises(cmfseg.CmfsegError) as e:
            model.segment(t2=case["t2"], flair=nan_flair, **FAST)
        assert e.value.status == 1 and "NaN" in e.value.message
        labels, _, _ = model.segment(t2=case["t2"], flair=nan_flair, nonfinite_to_zero=True,
                                     **FAST)
        labels.close()


def test_bad_arguments(model, case, case_files, tmp_path):
    with pytest.raises(TypeError):
        model.segment(t1=voxels(0), t1ce=case["t1ce"], **FAST)
    with pytest.raises(TypeError):
        model.segment(**case, no_such_setting=1)
    with pytest.raises(TypeError):
        model.segment(**case, progress=3)
    with pytest.raises(TypeError):
        model.segment(**case, cancel=object())
    with pytest.raises(TypeError):
        model.segment_files(**case_files, **FAST)  # no out
    with pytest.raises(ValueError):
        model.segment(**case, patch=(32, 32))
    with pytest.raises(cmfseg.CmfsegError) as e:
        model.segment(**case, patch=24)  # not a multiple of 16
    assert e.value.status == 1
    with pytest.raises(cmfseg.CmfsegError) as e:
        model.segment(**case, overlap=1.0, **FAST)
    assert e.value.status == 1
    bf16, _, _ = model.segment(**case, precision="bf16", **FAST)
    with bf16:
        assert bf16.shape == (NX, NY, NZ)
    fitted, _, _ = model.segment(**case, windows="fitted", **FAST)
    with fitted:
        assert fitted.shape == (NX, NY, NZ)
    closed = Volume.from_values((NX, NY, NZ), SPACING, voxels(0))
    closed.close()
    with pytest.raises(ValueError, match="closed"):
        model.segment(t1=closed, t1ce=case["t1ce"], **FAST)
    small = Volume.from_values((NX, NY, NZ - 1), SPACING, voxels(3)[:-1])
    with small, pytest.raises(cmfseg.CmfsegError) as e:
        model.segment(t1=case["t1"], t1ce=case["t1ce"], t2=case["t2"], flair=small, **FAST)
    assert e.value.status == 4
    gone = Model.load(WEIGHTS)
    gone.close()
    with pytest.raises(cmfseg.CmfsegError) as e:
        gone.segment(**case, **FAST)
    assert e.value.status == 1
    with pytest.raises(cmfseg.CmfsegError) as e:
        model.segment_files(**case_files, out=tmp_path / "no-dir" / "seg.nii.gz", **FAST)
    assert e.value.status == 2


def test_library_notes_reach_the_cmfseg_logger(caplog, case):
    with caplog.at_level(logging.INFO, logger="cmfseg"):
        with Model.load([str(p) for p in WEIGHTS]) as m:
            out = m.segment(t2=case["t2"], flair=case["flair"], **FAST)
            out.labels.close()
    notes = [r.getMessage() for r in caplog.records if r.name == "cmfseg"]
    assert any("inferred from tensor names" in n for n in notes), notes
    assert "t1, t1ce not given: segmented with t2+flair only" in notes
