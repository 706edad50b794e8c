"""How files on disk become cases, by the rules of the command-line program: label maps
paired by case name as `cmfseg evaluate --ref-dir --pred-dir` pairs them, and the images of
a BraTS-layout case folder as `cmfseg train` finds them.
"""
from __future__ import annotations

import os
from typing import Dict, List, Optional, Sequence, Tuple

# A file's case name is its name without extension and without one role suffix; files of
# the other role are skipped, so one directory may hold references and predictions.
REFERENCE_SUFFIXES = ("_ref", "-ref", "_gt", "-gt", "_seg", "-seg")
PREDICTION_SUFFIXES = ("_pred", "-pred", "_seg", "-seg")
PREDICTION_ONLY = ("_pred", "-pred")
REFERENCE_ONLY = ("_ref", "-ref", "_gt", "-gt")

# The role names of a modality's file in a case folder: BraTS 2017-2021, then BraTS 2023.
ROLE_NAMES = {"t1": ("t1", "t1n"), "t1ce": ("t1ce", "t1c"), "t2": ("t2", "t2w"),
              "flair": ("flair", "t2f")}


def case_name(file: str, suffixes: Sequence[str], excluding: Sequence[str]) -> Optional[str]:
    """The case name of a label map's file name, or None when it is not one of that role."""
    if file.endswith(".nii.gz"):
        stem = file[:-len(".nii.gz")]
    elif file.endswith(".nii"):
        stem = file[:-len(".nii")]
    else:
        return None
    if file.startswith(".") or not stem or stem.endswith(tuple(excluding)):
        return None
    for suffix in suffixes:
        if stem.endswith(suffix) and len(stem) > len(suffix):
            return stem[:-len(suffix)]
    return stem


def _label_maps(directory: str, suffixes: Sequence[str],
                excluding: Sequence[str]) -> Dict[str, List[str]]:
    """Case name -> the files naming it (more than one is the case's error)."""
    cases: Dict[str, List[str]] = {}
    for file in sorted(os.listdir(directory)):
        name = case_name(file, suffixes, excluding)
        if name is not None:
            cases.setdefault(name, []).append(os.path.join(directory, file))
    return cases


def pair_label_maps(ref_dir: str, pred_dir: str
                    ) -> Tuple[List[Tuple[str, List[str], List[str]]], List[str]]:
    """The cases of the references, in name order, as (name, reference files, prediction
    files) — exactly one of each makes a pair — and the predictions without a reference."""
    refs = _label_maps(ref_dir, REFERENCE_SUFFIXES, PREDICTION_ONLY)
    preds = _label_maps(pred_dir, PREDICTION_SUFFIXES, REFERENCE_ONLY)
    if not refs:
        raise ValueError("no reference label maps (.nii, .nii.gz) in %s" % ref_dir)
    cases = [(name, refs[name], preds.get(name, [])) for name in sorted(refs)]
    unpaired = [path for name in sorted(preds) if name not in refs for path in preds[name]]
    return cases, unpaired


def case_folders(directory: str) -> List[str]:
    """The sub-folders of a cohort directory in name order, hidden ones skipped."""
    return [os.path.join(directory, n) for n in sorted(os.listdir(directory))
            if not n.startswith(".") and os.path.isdir(os.path.join(directory, n))]


def case_images(folder: str) -> Dict[str, str]:
    """Modality -> file of a case folder: `<case><_ or -><role><.nii.gz or .nii>`, the case
    being the folder's name; ValueError when two files match one modality."""
    name = os.path.basename(os.path.normpath(folder))
    entries = set(os.listdir(folder))
    images = {}
    for modality, roles in ROLE_NAMES.items():
        hits = [file for role in roles for sep in "_-" for ext in (".nii.gz", ".nii")
                for file in [name + sep + role + ext] if file in entries]
        if len(hits) > 1:
            raise ValueError("case %s (%s): %s are both the %s file; keep one"
                             % (name, folder, " and ".join(hits), modality))
        if hits:
            images[modality] = os.path.join(folder, hits[0])
    return images
