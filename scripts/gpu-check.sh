#!/usr/bin/env bash
# The GPU check, for a machine with an NVIDIA GPU, PyTorch with CUDA (python3), nvcc and cmake, but no Node.js:
#   1. unpacks Node and node_modules carried in .gpu/ (made by scripts/gpu-bundle.sh; carry [".gpu", "dist"]);
#   2. builds torchkd from source with CMake against the machine's PyTorch (CUDA flavour, sm_90);
#   3. runs `torchkd doctor`, the CUDA tests and the KD tests (vitest);
#   4. KD-loss parity on the GPU against PyTorch's composite (bench/kd_parity_gpu.*);
#   5. the fused-vs-eager benchmark (torchkd vs Python PyTorch on the same GPU) at 4096x32000 fp32 and
#      8192x128256 bf16, plus the device's copy bandwidth for reference.
# GPU_CHECK_BENCH=0 skips the benchmark (a correctness-only run). Results go to $OUT (log.txt, summary.json, parity*.json, bench.json, build.txt, vitest.txt). About 3 minutes.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/torchkd-gpu-out}
mkdir -p "$OUT"
T0=$(date +%s)
log() { echo "[gpu-check +$(( $(date +%s) - T0 ))s] $*" | tee -a "$OUT/log.txt"; }

log "machine: $(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null | head -1)"
mkdir -p /tmp/tk-node/bin
xz -dc .gpu/node.xz > /tmp/tk-node/bin/node && chmod +x /tmp/tk-node/bin/node
tar -C /tmp/tk-node -xJf .gpu/node-headers.tar.xz
tar -xJf .gpu/node_modules.tar.xz
export PATH=/tmp/tk-node/bin:$PATH
export TORCHKD_PYTHON=${TORCHKD_PYTHON:-$(command -v python3)}
export CUDACXX=${CUDACXX:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}
log "node $(node --version); $(python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)')"
node scripts/libtorch.js | tee -a "$OUT/log.txt"

log "cmake build (CUDA flavour)"
cmake -S . -B build-gpu -DNODE_INCLUDE_DIR=/tmp/tk-node/include/node -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CUDA_ARCHITECTURES=90 > "$OUT/build.txt" 2>&1 && cmake --build build-gpu -j 16 >> "$OUT/build.txt" 2>&1
BUILD_RC=$?
log "build rc=$BUILD_RC"
if [ $BUILD_RC -ne 0 ]; then tail -40 "$OUT/build.txt"; exit 1; fi
export TORCHKD_BINARY=$PWD/build-gpu/torchkd.node

node bin/torchkd.js doctor 2>&1 | tee -a "$OUT/log.txt"

log "vitest: CUDA tests, KD loss/policy, nn"
NO_COLOR=1 timeout 240 node node_modules/vitest/vitest.mjs run test/07-cuda.test.ts test/04-kd-loss.test.ts \
  > "$OUT/vitest.txt" 2>&1
VITEST_RC=$?
grep -E "Test Files|Tests |✗|×|FAIL|Error: element|AssertionError" "$OUT/vitest.txt" | head -40 | tee -a "$OUT/log.txt"

log "parity on the GPU (default kernel)"
mkdir -p /tmp/kdpar /tmp/kdpar-cluster
node bench/kd_parity_gpu.js /tmp/kdpar >> "$OUT/log.txt" 2>&1 && python3 bench/kd_parity_gpu.py /tmp/kdpar "$OUT/parity.json" 2>&1 | tee -a "$OUT/log.txt"
log "parity on the GPU (cluster kernel, opt-in)"
[ "${GPU_CHECK_BENCH:-1}" = "0" ] || TORCHKD_KD_KERNEL=cluster node bench/kd_parity_gpu.js /tmp/kdpar-cluster >> "$OUT/log.txt" 2>&1 && python3 bench/kd_parity_gpu.py /tmp/kdpar-cluster "$OUT/parity-cluster.json" 2>&1 | tee -a "$OUT/log.txt"

if [ "${GPU_CHECK_BENCH:-1}" = "0" ]; then log "done (benchmark skipped; vitest rc=$VITEST_RC)"; exit 0; fi
log "benchmark: fused (torchkd) vs eager (Python PyTorch), same GPU"
python3 - > /tmp/bandwidth.json <<'PY'
import json, torch
x = torch.empty(2 * 1024**3, dtype=torch.uint8, device='cuda'); y = torch.empty_like(x)
for _ in range(3): y.copy_(x)
torch.cuda.synchronize(); s = torch.cuda.Event(enable_timing=True); e = torch.cuda.Event(enable_timing=True)
s.record()
for _ in range(10): y.copy_(x)
e.record(); torch.cuda.synchronize()
ms = s.elapsed_time(e) / 10
print(json.dumps({'copy_GBps_read_plus_write': 2 * x.numel() / (ms / 1000) / 1e9}))
PY
cat /tmp/bandwidth.json | tee -a "$OUT/log.txt"
echo "[" > "$OUT/bench.json"
first=1
for spec in "4096 32000 float32" "8192 128256 bfloat16" "512 128256 bfloat16"; do
  set -- $spec
  fused=$(node --expose-gc bench/kd_case.js fused $1 $2 $3 20 cuda 2>>"$OUT/log.txt")
  cluster=$(TORCHKD_KD_KERNEL=cluster node --expose-gc bench/kd_case.js fused $1 $2 $3 20 cuda 2>>"$OUT/log.txt")
  eager=$(python3 bench/kd_case.py $1 $2 $3 20 16 cuda 2>>"$OUT/log.txt")
  row="{\"size\": \"$1x$2\", \"dtype\": \"$3\", \"fused\": $fused, \"cluster\": $cluster, \"eager\": $eager}"
  log "$row"
  [ $first -eq 1 ] || echo "," >> "$OUT/bench.json"
  echo "$row" >> "$OUT/bench.json"
  first=0
done
echo "]" >> "$OUT/bench.json"

node -e "
const fs = require('fs'); const out = process.argv[1];
const bench = JSON.parse(fs.readFileSync(out + '/bench.json', 'utf8'));
const bw = JSON.parse(fs.readFileSync('/tmp/bandwidth.json', 'utf8')).copy_GBps_read_plus_write;
const rows = bench.map((r) => {
  const [n, c] = r.size.split('x').map(Number); const el = r.dtype === 'bfloat16' ? 2 : 4;
  const bytes = 3 * n * c * el; // read s, read t, write the gradient
  return { ...r, speedup: r.eager.ms / r.fused.ms, fusedGBps: bytes / (r.fused.ms / 1000) / 1e9, ofCopyBandwidth: bytes / (r.fused.ms / 1000) / 1e9 / bw };
});
fs.writeFileSync(out + '/summary.json', JSON.stringify({ date: new Date().toISOString(), copyGBps: bw, rows, vitestRc: Number(process.argv[2]) }, null, 2));
for (const r of rows) console.log(r.size, r.dtype, 'cluster kernel', r.cluster.ms.toFixed(3), 'ms;', 'fused', r.fused.ms.toFixed(3), 'ms', r.fusedGBps.toFixed(0), 'GB/s (', (100 * r.ofCopyBandwidth).toFixed(0), '% of copy)', 'eager', r.eager.ms.toFixed(3), 'ms', 'speedup', r.speedup.toFixed(1) + 'x', 'peak MB', r.fused.peakExtraMB.toFixed(0), 'vs', r.eager.peakExtraMB.toFixed(0));
" "$OUT" "$VITEST_RC" 2>&1 | tee -a "$OUT/log.txt"
log "done (vitest rc=$VITEST_RC)"
