#!/usr/bin/env bash
# Trains a CMFF model on generated phantoms with cmfseg's own commands, resumably: run it
# again after an interruption and every stage continues where it stopped (finished stages
# are skipped, training resumes from its last checkpoint). Logs and checkpoints stay in
# WORK (default /var/tmp/cmfseg-train), outside the source tree.
#
#   Tests/Scripts/train_model.sh [--cmft-steps N] [--steps N] [--width F] [--patch P] [--foreground F]
#                                [--lr LR] [--seed S] [--init WEIGHTS]
#
# Stages: 1. phantoms: 40 training cases (seed 1000) and 6 validation cases (seed 9000);
#         2. with --cmft-steps N > 0: CMFT (CycleGAN, no labels) for N iterations, then the
#            parameter transfer into CMFF's branches;
#         3. CMFF for --steps steps on 96³ patches (validated on 3 validation cases every 100
#            steps), with 80 % of the patches centred on tumour: the soft-Dice loss has almost
#            no gradient on a patch without tumour (measured at 64³ with 1/3: whole-case Dice
#            WT 0.34 after 500 steps, from massive false positives; at 96³ with 0.8: WT 0.62
#            after 200 steps).
#         With --init WEIGHTS (e.g. the bundled model), CMFF starts from those weights
#         instead of a random initialisation or CMFT's transfer (a fine-tune; fresh Adam state).
# The default model is then bundled with Tests/Scripts/bundle_model.sh WORK/RUN/best.safetensors.
# Environment: CMFSEG (the cmfseg binary; default: a release build of this tree), THREADS (2).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="${WORK:-/var/tmp/cmfseg-train}"
cmft_steps=0; steps=20000; width=16; patch=96; lr=3e-4; seed=1; foreground=0.8; init_weights=""
while [ $# -gt 0 ]; do
    case "$1" in
        --cmft-steps) cmft_steps="$2"; shift 2 ;;
        --steps) steps="$2"; shift 2 ;;
        --width) width="$2"; shift 2 ;;
        --patch) patch="$2"; shift 2 ;;
        --lr) lr="$2"; shift 2 ;;
        --seed) seed="$2"; shift 2 ;;
        --foreground) foreground="$2"; shift 2 ;;
        --init) init_weights="$(realpath "$2")"; shift 2 ;;
        *) echo "usage: $0 [--cmft-steps N] [--steps N] [--width F] [--patch P] [--lr LR] [--seed S] [--foreground F] [--init WEIGHTS]" >&2; exit 2 ;;
    esac
done
threads="${THREADS:-2}"
. "$root/Tests/Scripts/common.sh"
cmfseg_binary "$root" "$work"
mkdir -p "$work"
data="$work/data"

# 1. Phantoms (each case folder appears complete or not at all; existing ones are kept).
if [ ! -d "$data/train/phantom_0039" ]; then
    "$CMFSEG" phantom --out "$data/train" --cases 40 --seed 1000 --threads "$threads" --force
fi
if [ ! -d "$data/val/phantom_0005" ]; then
    "$CMFSEG" phantom --out "$data/val" --cases 6 --seed 9000 --threads "$threads" --force
fi
mkdir -p "$data/val3"
for c in phantom_0000 phantom_0001 phantom_0002; do ln -sfn "../val/$c" "$data/val3/$c"; done

resume() { [ -f "$1/checkpoint.safetensors" ] && echo "--resume $1/checkpoint.safetensors" || true; }

# 2. CMFT and the parameter transfer.
init=()
if [ "$cmft_steps" -gt 0 ]; then
    gan="$work/cmft-f$width-p$patch"
    # shellcheck disable=SC2046
    "$CMFSEG" train cmft --data "$data/train" --out "$gan" --patch "$patch" --steps "$cmft_steps" --seed "$seed" \
        --threads "$threads" --base-filters "$width" --lr 1e-4 --checkpoint-every 25 --log-every 10 $(resume "$gan")
    "$CMFSEG" transfer --generators "$gan/x2y.safetensors" "$gan/y2x.safetensors" --out "$gan/transfer.safetensors"
    init=(--init "$gan/transfer.safetensors")
fi
if [ -n "$init_weights" ]; then
    [ "$cmft_steps" -eq 0 ] || { echo "--init and --cmft-steps both choose the starting weights; give one" >&2; exit 2; }
    init=(--init "$init_weights")
fi

# 3. CMFF.
run="$work/cmff-f$width-p$patch-fg$foreground"
if [ "$cmft_steps" -gt 0 ]; then run="$run-cmft$cmft_steps"; fi
if [ -n "$init_weights" ]; then run="$run-init-$(basename "$init_weights" .safetensors)-lr$lr"; fi
# shellcheck disable=SC2046
"$CMFSEG" train cmff --data "$data/train" --val "$data/val3" --out "$run" --patch "$patch" --steps "$steps" \
    --seed "$seed" --threads "$threads" --base-filters "$width" --lr "$lr" --foreground "$foreground" \
    --checkpoint-every 20 --validate-every 100 --val-overlap 0.25 --log-every 10 "${init[@]}" $(resume "$run")
echo "model: $run/best.safetensors (best validation), $run/model.safetensors (last step)"
