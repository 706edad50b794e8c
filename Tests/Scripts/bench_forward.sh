#!/usr/bin/env bash
# Benchmark (not a test): one 128^3 CMFF (M2G) forward with cmfseg and with ONNX Runtime
# (../shared/tools/ortref.py), side by side in one run, 2 threads. Prints both times, the
# effective GFLOP/s and the ratio, and the bf16 ratio on CPUs with AVX-512 BF16. Needs a
# release build and a venv with numpy onnx onnxruntime safetensors:
#   swift build -c release --product cmfseg-cli
#   VENV=/work/venv Tests/Scripts/bench_forward.sh [D H W]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
shape=("${1:-128}" "${2:-128}" "${3:-128}")
threads="${THREADS:-2}"
venv="${VENV:-/work/venv}"
f="$root/Tests/Fixtures/pytorch"
w=("$f/m2g_rand_net0.safetensors" "$f/m2g_rand_net1.safetensors" "$f/m2g_rand_fusion.safetensors")
ortref="${ORTREF:-$root/../shared/tools/ortref.py}"
echo "load: $(cat /proc/loadavg)"
ours=$("$root/.build/release/cmfseg-cli" bench forward --patch "${shape[@]}" --threads "$threads" --repeat 2 --weights "${w[@]}" --json 2>/dev/null)
echo "cmfseg: $ours"
t_ours=$(echo "$ours" | python3 -c "import json, sys; print(json.load(sys.stdin)['seconds_per_forward'])")
if [ -f "$ortref" ] && "$venv/bin/python" -c "import onnxruntime" 2>/dev/null; then
  ort=$("$venv/bin/python" "$ortref" time "${w[@]}" --shape "${shape[@]}" --threads "$threads" --reps 1)
  echo "onnxruntime: $ort"
  t_ort=$(echo "$ort" | sed -E 's/.*: ([0-9.]+) s\/forward.*/\1/')
  echo "ratio onnxruntime/cmfseg: $(python3 -c "print(f'{$t_ort/$t_ours:.2f}')")"
  # bf16 only where the CPU has the instructions: elsewhere oneDNN emulates them (slower than f32).
  if grep -qw avx512_bf16 /proc/cpuinfo; then
    bf16=$("$root/.build/release/cmfseg-cli" bench forward --precision bf16 --patch "${shape[@]}" --threads "$threads" \
           --repeat 2 --weights "${w[@]}" --json 2>/dev/null)
    echo "cmfseg bf16: $bf16"
    t_bf16=$(echo "$bf16" | python3 -c "import json, sys; print(json.load(sys.stdin)['seconds_per_forward'])")
    echo "ratio onnxruntime/cmfseg bf16: $(python3 -c "print(f'{$t_ort/$t_bf16:.2f}')")"
  else
    echo "bf16: not measured (this CPU has no AVX-512 BF16; oneDNN would emulate it)"
  fi
else
  echo "onnxruntime reference not available (ortref.py or venv missing)"
fi
echo "load: $(cat /proc/loadavg)"
