#!/usr/bin/env bash
# The paper's ablation on phantoms, with cmfseg's own commands: every configuration trained
# at the same step budget, patch and seed on the same 40 phantoms (seed 1000), then scored
# on held-out phantoms it never saw (score_model.sh: standard seed 9200 and the shifted
# variant, seed 9100), and summarised as a table and a plot (ablation_report.py).
#
#   Tests/Scripts/ablation.sh [--steps N] [--cmft-steps N] [--patch P] [--width F] [--cases N]
#
# Configurations: single-pair A, single-pair B, 4-modality U-Net, fusion without masks,
# CMFF from random init, CMFF from the CMFT generators (parameter transfer), and CMFF of
# half the width from random init and taught by the generators (distillation). Resumable:
# run it again after an interruption and every run continues from its checkpoint; finished
# runs are not repeated. Each configuration is scored as soon as it is trained, and its
# per-case scores are kept in the source tree (Sources/CMFSeg/Train/Ablation/scores-…, one
# folder per budget), so a configuration scored once is never trained again, even when WORK
# is lost. Logs, checkpoints and models in WORK (default /var/tmp/cmfseg-ablation); the
# table and plot go to Sources/CMFSeg/Train/Ablation/ablation.{md,png}.
# Environment: CMFSEG (the cmfseg binary; default: a release build of this tree), THREADS (2).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="${WORK:-/var/tmp/cmfseg-ablation}"
steps=500; cmft_steps=250; patch=96; width=16; cases=4; seed=1
while [ $# -gt 0 ]; do
    case "$1" in
        --steps) steps="$2"; shift 2 ;;
        --cmft-steps) cmft_steps="$2"; shift 2 ;;
        --patch) patch="$2"; shift 2 ;;
        --width) width="$2"; shift 2 ;;
        --cases) cases="$2"; shift 2 ;;
        *) echo "usage: $0 [--steps N] [--cmft-steps N] [--patch P] [--width F] [--cases N]" >&2; exit 2 ;;
    esac
done
threads="${THREADS:-2}"
. "$root/Tests/Scripts/common.sh"
cmfseg_binary "$root" "$work"
export CMFSEG THREADS="$threads"
results="$root/Sources/CMFSeg/Train/Ablation"
scores="$results/scores-patch$patch-steps$steps-cmft$cmft_steps-cases$cases"
scored() { for name in "$@"; do [ -f "$scores/$name/standard.csv" ] && [ -f "$scores/$name/shifted.csv" ] || return 1; done; }
data="$work/data/train"
scored single-pair-a single-pair-b unet4 no-mask cmff-random cmff-cmft cmff-half-random cmff-half-distill \
    || [ -d "$data/phantom_0039" ] || "$CMFSEG" phantom --out "$data" --cases 40 --seed 1000 --threads "$threads" --force >/dev/null

common=(--data "$data" --patch "$patch" --steps "$steps" --seed "$seed" --threads "$threads" --lr 3e-4
        --foreground 0.8 --checkpoint-every 25 --validate-every 0 --log-every 10)
resume() { [ -f "$1/checkpoint.safetensors" ] && echo "--resume $1/checkpoint.safetensors" || true; }
done_at() { [ -f "$1/model.safetensors" ] && "$CMFSEG" info "$1/model.safetensors" | grep -q "training_steps = $steps$"; }
train() {   # NAME TASK [OPTIONS...]: trains (or finishes) one configuration, then scores it
    local name="$1" task="$2"; shift 2
    local out="$work/runs/$name"
    scored "$name" && return 0
    if ! done_at "$out"; then
        echo "== $name ($task $*)" >&2
        # shellcheck disable=SC2046
        "$CMFSEG" train "$task" --out "$out" "${common[@]}" "$@" $(resume "$out") > "$work/runs/$name.log" 2>&1
    fi
    WORK="$work" "$root/Tests/Scripts/score_model.sh" "$out/model.safetensors" --cases "$cases" --name "$name" >&2
    mkdir -p "$scores/$name"
    cp "$work/scores/$name/standard.csv" "$work/scores/$name/shifted.csv" "$scores/$name/"
}
mkdir -p "$work/runs"

# stage 1 of the method: CMFT, then the parameter transfer
gan="$work/runs/cmft"
if ! scored cmff-cmft cmff-half-distill && { [ ! -f "$gan/x2y.safetensors" ] ||
        ! "$CMFSEG" info "$gan/x2y.safetensors" | grep -q "training_steps = $cmft_steps$"; }; then
    # shellcheck disable=SC2046
    "$CMFSEG" train cmft --data "$data" --out "$gan" --patch "$patch" --steps "$cmft_steps" --seed "$seed" \
        --threads "$threads" --base-filters "$width" --lr 1e-4 --checkpoint-every 25 --log-every 10 $(resume "$gan") \
        > "$work/runs/cmft.log" 2>&1
fi
[ ! -f "$gan/x2y.safetensors" ] || \
    "$CMFSEG" transfer --generators "$gan/x2y.safetensors" "$gan/y2x.safetensors" --out "$gan/transfer.safetensors" >/dev/null

# the method's own comparison first, then the baselines
train cmff-cmft cmff --base-filters "$width" --init "$gan/transfer.safetensors"
train cmff-random cmff --base-filters "$width"
train single-pair-a single-pair --pair a --base-filters "$width"
train single-pair-b single-pair --pair b --base-filters "$width"
train unet4 unet4
train no-mask no-mask --base-filters "$width"
train cmff-half-random cmff --base-filters $((width / 2))
train cmff-half-distill cmff --base-filters $((width / 2)) --distill "$gan/x2y.safetensors" "$gan/y2x.safetensors"

"$root/.ci/setup" >&2
"$root/.venv/bin/python" -c "import matplotlib" 2>/dev/null || "$root/.venv/bin/pip" install -q matplotlib
"$root/.venv/bin/python" "$root/Tests/Scripts/ablation_report.py" "$scores" \
    --out "$results/ablation" --steps "$steps" --patch "$patch" --cmft-steps "$cmft_steps"
