#!/usr/bin/env bash
# The GPU path in one short run (issue 22 §4): every model trained at its CLI defaults with
# --device cuda, then the speed benchmark (steps/s vs batch and width, CPU and GPU in the same run).
# Run from the repository root on a machine with a GPU, with that machine's own Python and torch:
#   bash bench/gpu_check.sh [OUT_DIR]        (DEVICE=cpu STEPS=20 for a dry run without a GPU)
# It needs only the pure-Python pieces genlab's core imports besides torch (numpy, scikit-learn,
# torchvision for MNIST only, pillow, plotly for bench tables): it installs nothing.
set -u
OUT=${1:-gpu-check}
DEVICE=${DEVICE:-cuda}
STEPS=${STEPS:-}                 # empty: each model's default length
PY=${PY:-python3}
mkdir -p "$OUT"
export GENLAB_NO_DOWNLOAD=1 GENLAB_CACHE_DIR="$OUT/cache" PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"

{
  echo "date: $(date -u +%FT%TZ)"
  "$PY" - <<'EOF'
import platform, torch
print("python:", platform.python_version())
print("torch:", torch.__version__, "cuda:", torch.version.cuda)
print("gpu:", torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none")
for name in ("numpy", "sklearn", "torchvision", "PIL", "plotly"):
    try:
        module = __import__(name)
        print(f"{name}:", getattr(module, "__version__", "?"))
    except ImportError:
        print(f"{name}: not installed")
EOF
} | tee "$OUT/versions.txt"

status=0
for model in ae vae gan dcgan cgan tgan; do
  args=(train "$model" --device "$DEVICE" --out "$OUT/runs/$model" --quiet)
  [ -n "$STEPS" ] && args+=(--steps "$STEPS")
  start=$(date +%s%N)
  if "$PY" -m genlab "${args[@]}" > "$OUT/train-$model.log" 2>&1; then result=ok; else result=FAILED; status=1; fi
  printf '%s\t%s\t%d ms\n' "$model" "$result" $(( ($(date +%s%N) - start) / 1000000 )) | tee -a "$OUT/train.tsv"
done

if [ "$DEVICE" = cuda ]; then
  "$PY" -m bench --only trainers scaling --device cuda --out "$OUT/speed-cuda.md" > "$OUT/bench.log" 2>&1 || status=1
fi
echo "results in $OUT (exit $status)"
exit $status
