"""Cohorts: many cases evaluated or segmented into one table, in this process or on a Dask
cluster.

Without a client the cases run here, one after another. With a `dask.distributed.Client`
every case is one task; the workers must import cmfseg (and so find its library) and reach
the files at the paths given, which on a multi-node cluster means a shared file system.

The table is a pandas.DataFrame when pandas is installed, else a list of dicts (one per
row). A case that fails still has its row: `error` holds the message (the exception's type
and text) and the result columns are empty; rows of cases that worked have error None.
"""
from __future__ import annotations

import functools
import os
import threading
import warnings
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from . import _cases
from .evaluation import REGION_FIELDS, LESION_FIELDS, REGIONS, evaluate_files, _params
from .segment import Model, _Call

PathLike = Union[str, "os.PathLike[str]"]
Row = Dict[str, Any]

EVALUATION_COLUMNS = ("case", "region", *REGION_FIELDS,
                      *("lesion_" + f for f in LESION_FIELDS), "error")
SEGMENTATION_COLUMNS = ("case", "labels", "route", "modalities", "summary", "error")


def evaluate(ref_dir: PathLike, pred_dir: PathLike, client: Any = None, *,
             labels: str = "brats2018", nsd_tolerance_mm: Optional[float] = None,
             empty_hd: Union[str, float] = "diagonal", ignore_geometry: bool = False,
             threads: int = 1) -> Any:
    """Scores the predictions of `pred_dir` against the references of `ref_dir`.

    Files pair as `cmfseg evaluate --ref-dir --pred-dir` pairs them: the .nii/.nii.gz files
    of each directory by case name, the file name without extension and without one role
    suffix (references: _ref -ref _gt -gt _seg -seg; predictions: _pred -pred _seg -seg);
    files ending _pred among the references and _ref/_gt among the predictions are skipped,
    so one directory may hold both. Every reference is a case: one without a prediction, or
    with two files naming it, is a failed case. Predictions without a reference are left
    out, with a warning.

    Returns one row per case and region (WT, TC, ET) in case-name order, with the columns
    of the command's CSV (case, region, dice, hd95, ..., lesion_pq) and error; see the module
    doc for the table's type. Options as for cmfseg.evaluate_files; threads is per case.
    """
    options = dict(labels=labels, nsd_tolerance_mm=nsd_tolerance_mm, empty_hd=empty_hd,
                   ignore_geometry=ignore_geometry, threads=threads)
    _params(**options)  # bad options fail here once, not in every case
    cases, unpaired = _cases.pair_label_maps(os.fspath(ref_dir), os.fspath(pred_dir))
    if unpaired:
        warnings.warn("%d prediction(s) without a reference left out: %s"
                      % (len(unpaired), ", ".join(unpaired)))
    jobs = [(name, (name, refs, preds, options)) for name, refs, preds in cases]
    return _table(_run(_evaluate_case, jobs, client, EVALUATION_COLUMNS), EVALUATION_COLUMNS)


def segment(cases: Union[PathLike, Mapping[str, Mapping[str, PathLike]]], out_dir: PathLike,
            weights: Union[PathLike, Sequence[PathLike], None] = None, client: Any = None,
            **params: Any) -> Any:
    """Segments every case and writes its label map to `<out_dir>/<case>_pred.nii.gz`.

    cases: a directory of BraTS-layout case folders (`<case>/<case>_t1.nii.gz`, ... t1ce, t2,
    flair; `-` for `_`, `.nii`, and the BraTS 2023 names t1n, t1c, t2w, t2f work too), or a
    mapping case name -> {"t1": path, "t1ce": path, "t2": path, "flair": path}; either
    pair may be missing. weights: safetensors file(s) as for Model.load, or None for the
    default model. The model is loaded once per process that runs cases (each Dask worker,
    or this one) and kept there for later calls with the same weights. params: the
    segmentation settings of Model.segment (progress and cancel belong to single runs).

    Returns one row per case in input order: case, labels (the written file), route,
    modalities (comma-separated), summary, error; see the module doc for the table's type.
    """
    if "progress" in params or "cancel" in params:
        raise TypeError("cohort.segment takes segmentation settings; progress and cancel "
                        "belong to Model.segment")
    _Call(**params)  # bad settings fail here once, not in every case
    out_dir = os.path.abspath(out_dir)
    os.makedirs(out_dir, exist_ok=True)
    key: Optional[Tuple[str, ...]]
    if weights is None:
        key = None
    elif isinstance(weights, (str, os.PathLike)):
        key = (os.path.abspath(weights),)
    else:
        key = tuple(os.path.abspath(w) for w in weights)
    named: List[Tuple[str, Union[str, Dict[str, str]]]]
    if isinstance(cases, (str, os.PathLike)):
        named = [(os.path.basename(f), f) for f in _cases.case_folders(os.fspath(cases))]
    else:
        named = [(str(name), {m: os.path.abspath(p) for m, p in images.items()})
                 for name, images in cases.items()]
    jobs = [(name, (name, case, out_dir, key, params)) for name, case in named]
    return _table(_run(_segment_case, jobs, client, SEGMENTATION_COLUMNS), SEGMENTATION_COLUMNS)


def _failure(name: str, error: BaseException, columns: Sequence[str]) -> Row:
    row: Row = dict.fromkeys(columns)
    row.update(case=name, error="%s: %s" % (type(error).__name__, error))
    return row


def _case_task(columns: Sequence[str]) -> Callable:
    """Makes a case's function return its failure row instead of raising."""
    def wrap(task: Callable[..., List[Row]]) -> Callable[..., List[Row]]:
        @functools.wraps(task)
        def run(name: str, *args: Any) -> List[Row]:
            try:
                return task(name, *args)
            except Exception as e:
                return [_failure(name, e, columns)]
        return run
    return wrap


def _run(task: Callable[..., List[Row]], jobs: List[Tuple[str, tuple]], client: Any,
         columns: Sequence[str]) -> List[Row]:
    """The rows of every job (name, arguments of task), in job order."""
    if client is None:
        return [row for _, args in jobs for row in task(*args)]
    futures = [client.submit(task, *args, pure=False) for _, args in jobs]
    rows: List[Row] = []
    for (name, _), future in zip(jobs, futures):
        try:
            rows.extend(future.result())
        except Exception as e:  # the task never ran to its end, e.g. its worker died
            rows.append(_failure(name, e, columns))
    return rows


def _table(rows: List[Row], columns: Sequence[str]) -> Any:
    try:
        import pandas
    except ImportError:
        return rows
    return pandas.DataFrame(rows, columns=list(columns))


@_case_task(EVALUATION_COLUMNS)
def _evaluate_case(name: str, refs: List[str], preds: List[str],
                   options: Dict[str, Any]) -> List[Row]:
    for role, files in (("references", refs), ("predictions", preds)):
        if len(files) > 1:
            raise ValueError("%s %s all name case %s" % (role, " and ".join(files), name))
    if not preds:
        raise ValueError("%s has no prediction" % refs[0])
    scores = evaluate_files(refs[0], preds[0], **options)
    rows = []
    for region in REGIONS:
        metrics = scores[region]
        row: Row = {"case": name, "region": region}
        row.update((f, metrics[f]) for f in REGION_FIELDS)
        row.update(("lesion_" + f, metrics["lesion"][f]) for f in LESION_FIELDS)
        row["error"] = None
        rows.append(row)
    return rows


_MODELS: Dict[Optional[Tuple[str, ...]], Model] = {}
_MODELS_LOCK = threading.Lock()


def _model(weights: Optional[Tuple[str, ...]]) -> Model:
    """This process's model for these weights, loaded on first use."""
    with _MODELS_LOCK:
        if weights not in _MODELS:
            _MODELS[weights] = Model.load_default() if weights is None else Model.load(weights)
        return _MODELS[weights]


@_case_task(SEGMENTATION_COLUMNS)
def _segment_case(name: str, case: Union[str, Dict[str, str]], out_dir: str,
                  weights: Optional[Tuple[str, ...]], params: Dict[str, Any]) -> List[Row]:
    images = _cases.case_images(case) if isinstance(case, str) else case
    out = os.path.join(out_dir, name + "_pred.nii.gz")
    info = _model(weights).segment_files(**images, out=out, **params)
    return [{"case": name, "labels": out, "route": info["route"],
             "modalities": ",".join(info["modalities"]), "summary": info["summary"],
             "error": None}]
