#!/usr/bin/env bash
# Makes a trained model the library's default: stores it as float16 (half the size; the
# network still computes in float32) with its provenance, at
# Sources/CMFSeg/Resources/models/cmfseg-default.safetensors.
#
#   Tests/Scripts/bundle_model.sh WEIGHTS [KEY=VALUE ...]
#
# WEIGHTS is a model written by `cmfseg train` (its metadata already holds the training
# command, steps, patch, date and validation Dice); the data seeds of train_model.sh are
# added, and any KEY=VALUE given (e.g. heldout_dice=... from score_model.sh).
# Environment: CMFSEG (the cmfseg binary; default: a release build of this tree).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
[ $# -ge 1 ] || { echo "usage: $0 WEIGHTS [KEY=VALUE ...]" >&2; exit 2; }
weights="$1"; shift
. "$root/Tests/Scripts/common.sh"
cmfseg_binary "$root"
meta=(--meta "training_data_seeds=cmfseg phantom --variant standard --seed 1000 --cases 40 (training); --seed 9000 cases 0-2 (validation)"
      --meta "storage=F16 (cmfseg convert --dtype f16 from the F32 training output)")
for kv in "$@"; do meta+=(--meta "$kv"); done
"$CMFSEG" convert --weights "$weights" --out "$root/Sources/CMFSeg/Resources/models/cmfseg-default.safetensors" \
    --dtype f16 "${meta[@]}"
