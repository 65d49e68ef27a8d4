#!/usr/bin/env bash
# The GPU check, for a machine with an NVIDIA GPU, PyTorch with CUDA (python3), nvcc and cmake, but no Node.js:
#   1. unpacks Node, its headers, node_modules and a small Fashion-MNIST folder carried in .gpu/ (made by
#      scripts/gpu-bundle.sh; carry [".gpu", "dist"]);
#   2. builds torchkd from source with CMake against the machine's PyTorch (CUDA flavour, sm_90), and in the
#      background makes the CUDA prebuilt binary with `npm run release:prebuilds` (node-gyp + prebuildify, sm_80 and sm_90);
#   3. runs `torchkd doctor`, a 30-second smoke test of the TMA cluster kernel (bench/kd_tma_smoke.js: if it fails,
#      every later TMA step is skipped, so a faulting or hanging kernel costs seconds, not the lease), the CUDA tests,
#      the KD tests and the mixed-precision tests (vitest);
#   4. KD-loss parity on the GPU against PyTorch's composite (bench/kd_parity_gpu.*), for the TMA cluster kernel
#      (TORCHKD_KD_KERNEL=tma, which also reruns the CUDA tests) and the generic kernel (the default);
#   5. the fused-vs-eager benchmark (torchkd vs Python PyTorch on the same GPU) at 4096x32000 fp32 and
#      8192x128256 bf16 (and 512x128256 bf16), each torchkd kernel variant, plus the device's copy bandwidth;
#   6. short knowledge-distillation training runs on CUDA (`torchkd train --device cuda`, and with `--amp fp16`);
#   7. loads the prebuilt binary through the normal loader (no TORCHKD_BINARY, no source build) and runs doctor;
#   and, after the tests, an NCCL smoke test (bench/nccl_smoke.js under `torchkd run`, 1 and 2 ranks).
# GPU_CHECK_BENCH=0 skips the benchmark (a correctness-only run); GPU_CHECK_PREBUILD=0 skips the prebuild. Results go to
# $OUT (log.txt, summary.json, parity.json, parity-tma.json, bench.json, build.txt, tma-smoke.txt, vitest.txt,
# vitest-tma.txt, nccl-1.txt, nccl-2.txt, prebuild.txt). About 4 minutes on an H100.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=${OUT:-/tmp/torchkd-gpu-out}
mkdir -p "$OUT"
T0=$(date +%s)
log() { echo "[gpu-check +$(( $(date +%s) - T0 ))s] $*" | tee -a "$OUT/log.txt"; }

log "machine: $(nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv,noheader 2>/dev/null | head -1); $(nproc) cores"
mkdir -p /tmp/tk-node/bin
xz -dc .gpu/node.xz > /tmp/tk-node/bin/node && chmod +x /tmp/tk-node/bin/node
tar -C /tmp/tk-node -xJf .gpu/node-headers.tar.xz
tar -xJf .gpu/node_modules.tar.xz
export PATH=/tmp/tk-node/bin:$PATH
export TORCHKD_PYTHON=${TORCHKD_PYTHON:-$(command -v python3)}
export CUDACXX=${CUDACXX:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}
export PATH=$PATH:$(dirname "$CUDACXX")
log "node $(node --version); $(python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)')"
node lib/libtorch.js | tee -a "$OUT/log.txt"

log "cmake build (CUDA flavour)"
cmake -S . -B build-gpu -DNODE_INCLUDE_DIR=/tmp/tk-node/include/node -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CUDA_ARCHITECTURES=90 > "$OUT/build.txt" 2>&1 && cmake --build build-gpu -j "$(nproc)" >> "$OUT/build.txt" 2>&1
BUILD_RC=$?
log "build rc=$BUILD_RC"
if [ $BUILD_RC -ne 0 ]; then
  # torch.distributed's sources follow c10d's headers, which change between PyTorch releases: without it, the rest of
  # the check still runs (the log says so).
  tail -20 "$OUT/build.txt"
  log "retrying without torch.distributed (TORCHKD_NO_DISTRIBUTED=1)"
  export TORCHKD_NO_DISTRIBUTED=1
  rm -rf build-gpu
  cmake -S . -B build-gpu -DNODE_INCLUDE_DIR=/tmp/tk-node/include/node -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_CUDA_ARCHITECTURES=90 > "$OUT/build-nodist.txt" 2>&1 && cmake --build build-gpu -j "$(nproc)" >> "$OUT/build-nodist.txt" 2>&1
  BUILD_RC=$?
  log "build without torch.distributed rc=$BUILD_RC"
  if [ $BUILD_RC -ne 0 ]; then tail -40 "$OUT/build-nodist.txt"; exit 1; fi
fi

# The shipped binary: node-gyp through prebuildify, as `npm run release:prebuilds` does anywhere (in the background, niced).
PREBUILD_PID=
if [ "${GPU_CHECK_PREBUILD:-1}" != "0" ]; then
  (nice -n 10 env JOBS=8 timeout 300 node scripts/release-prebuilds.js --only default > "$OUT/prebuild.txt" 2>&1; echo "prebuild rc=$?" >> "$OUT/prebuild.txt") &
  PREBUILD_PID=$!
fi

export TORCHKD_BINARY=$ROOT/build-gpu/torchkd.node
node bin/torchkd.js doctor 2>&1 | tee -a "$OUT/log.txt"

# The TMA kernel has not run on a GPU before: a short, synchronous check first (timeouts with -k everywhere it runs,
# so a hang costs seconds). When it fails, the later TMA steps are skipped and the time goes to the rest.
log "TMA kernel smoke test"
TORCHKD_KD_KERNEL=tma CUDA_LAUNCH_BLOCKING=1 timeout -k 5 45 node bench/kd_tma_smoke.js > "$OUT/tma-smoke.txt" 2>&1
TMA_RC=$?
cat "$OUT/tma-smoke.txt" | tail -12 | tee -a "$OUT/log.txt"
TMA_OK=1; [ $TMA_RC -eq 0 ] || { TMA_OK=0; log "TMA smoke test failed (rc=$TMA_RC): later TMA steps skipped"; }

log "vitest: CUDA tests, KD loss and policy, mixed precision"
NO_COLOR=1 timeout -k 5 240 node node_modules/vitest/vitest.mjs run test/07-cuda.test.ts test/04-kd-loss.test.ts \
  test/04-kd-policy.test.ts test/05-amp.test.ts > "$OUT/vitest.txt" 2>&1
VITEST_RC=$?
grep -E "Test Files|Tests |✗|×|FAIL|Error: element|AssertionError" "$OUT/vitest.txt" | head -40 | tee -a "$OUT/log.txt"

# NCCL (torch.distributed's GPU backend): a job of one rank, then two ranks (on one GPU if there is only one, which
# NCCL may refuse: the log keeps its answer). Collectives and a DDP step checked against values computed in each rank.
NCCL_RC=skipped
if node -e "process.exit(require('./dist/index.js').distributed.isNcclAvailable() ? 0 : 1)" 2>/dev/null; then
  for n in 1 2; do
    log "NCCL smoke test, $n rank(s)"
    timeout -k 5 120 node bin/torchkd.js run --nproc-per-node $n --master-port $((29600 + n)) bench/nccl_smoke.js \
      > "$OUT/nccl-$n.txt" 2>&1
    rc=$?
    tail -6 "$OUT/nccl-$n.txt" | tee -a "$OUT/log.txt"
    [ $n -eq 1 ] && NCCL_RC=$rc || NCCL_RC="$NCCL_RC,$rc"
  done
else
  log "NCCL smoke test skipped: this build has no NCCL backend (isNcclAvailable() is false)"
fi

VITEST_TMA_RC=skipped
if [ $TMA_OK -eq 1 ]; then
  log "vitest: CUDA tests with the TMA kernel (TORCHKD_KD_KERNEL=tma)"
  TORCHKD_KD_KERNEL=tma NO_COLOR=1 timeout -k 5 120 node node_modules/vitest/vitest.mjs run test/07-cuda.test.ts > "$OUT/vitest-tma.txt" 2>&1
  VITEST_TMA_RC=$?
  grep -E "Test Files|Tests |✗|×|FAIL|AssertionError" "$OUT/vitest-tma.txt" | head -20 | tee -a "$OUT/log.txt"
fi

KERNELS="tma generic"; [ $TMA_OK -eq 1 ] || KERNELS=generic
for kernel in $KERNELS; do
  log "parity on the GPU ($kernel kernel)"
  dir=/tmp/kdpar-$kernel
  name=parity; [ $kernel = generic ] || name=parity-$kernel
  rm -rf $dir && mkdir -p $dir
  # The comparison runs on whatever cases were written, even when one of them failed.
  TORCHKD_KD_KERNEL=$kernel timeout -k 5 90 node bench/kd_parity_gpu.js $dir >> "$OUT/log.txt" 2>&1
  python3 bench/kd_parity_gpu.py $dir "$OUT/$name.json" 2>&1 | tee -a "$OUT/log.txt"
done

if [ "${GPU_CHECK_BENCH:-1}" != "0" ]; then
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
    row="{\"size\": \"$1x$2\", \"dtype\": \"$3\""
    for kernel in tma tma256 generic; do
      [ $TMA_OK -eq 1 ] || [ $kernel = generic ] || continue
      r=$(TORCHKD_KD_KERNEL=$kernel timeout -k 5 60 node --expose-gc bench/kd_case.js fused $1 $2 $3 30 cuda 2>>"$OUT/log.txt")
      row="$row, \"$kernel\": ${r:-null}"
    done
    eager=$(timeout -k 5 90 python3 bench/kd_case.py $1 $2 $3 20 16 cuda 2>>"$OUT/log.txt")
    row="$row, \"eager\": ${eager:-null}}"
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
  const k = {};
  for (const name of ['tma', 'tma256', 'generic']) if (r[name]) k[name] = { ms: r[name].ms, GBps: bytes / (r[name].ms / 1000) / 1e9, ofCopy: bytes / (r[name].ms / 1000) / 1e9 / bw, speedup: r.eager.ms / r[name].ms, peakExtraMB: r[name].peakExtraMB, kernel: r[name].kernel };
  return { size: r.size, dtype: r.dtype, eager: r.eager, kernels: k };
});
fs.writeFileSync(out + '/summary.json', JSON.stringify({ date: new Date().toISOString(), copyGBps: bw, rows, vitestRc: Number(process.argv[2]),
  tmaSmokeRc: Number(process.argv[3]), vitestTmaRc: process.argv[4] }, null, 2));
for (const r of rows) for (const [name, k] of Object.entries(r.kernels))
  console.log(r.size, r.dtype, name, '=', k.kernel, k.ms.toFixed(3), 'ms', k.GBps.toFixed(0), 'GB/s', (100 * k.ofCopy).toFixed(0) + '% of copy', 'vs eager', r.eager.ms.toFixed(3), 'ms =', k.speedup.toFixed(1) + 'x', 'peak MB', k.peakExtraMB.toFixed(0), 'vs', r.eager.peakExtraMB.toFixed(0));
" "$OUT" "$VITEST_RC" "$TMA_RC" "$VITEST_TMA_RC" 2>&1 | tee -a "$OUT/log.txt"
fi

log "KD training on CUDA (torchkd train --device cuda, 10k images)"
RUN_DIR=$(mktemp -d /tmp/tk-run-cuda.XXXXXX) && rmdir "$RUN_DIR"  # a fresh --out for each try
timeout -k 5 120 node bin/torchkd.js train --arch mlp_small_mnist --kd-teacher simplenet_mnist --teacher-epochs 1 --epochs 2 \
  --device cuda --data .gpu/fmnist --out "$RUN_DIR" 2>&1 | tail -12 | tee -a "$OUT/log.txt"
log "KD training on CUDA in mixed precision (--amp fp16: autocast and a GradScaler)"
RUN_DIR=$(mktemp -d /tmp/tk-run-amp.XXXXXX) && rmdir "$RUN_DIR"
timeout -k 5 90 node bin/torchkd.js train --arch mlp_small_mnist --kd-teacher simplenet_mnist --teacher-epochs 1 --epochs 1 \
  --amp fp16 --device cuda --data .gpu/fmnist --out "$RUN_DIR" 2>&1 | tail -8 | tee -a "$OUT/log.txt"

if [ -n "$PREBUILD_PID" ]; then
  log "waiting for the prebuild"
  wait $PREBUILD_PID
  tail -4 "$OUT/prebuild.txt" | tee -a "$OUT/log.txt"
fi
if [ -n "$PREBUILD_PID" ] && ls prebuilds/*/torchkd-*-cu*.node > /dev/null 2>&1; then
  # The loader as a user's install sees it: no TORCHKD_BINARY, no source build next to the package.
  mv build build-prebuild-src 2>/dev/null
  unset TORCHKD_BINARY
  node bin/torchkd.js doctor 2>&1 | tee -a "$OUT/log.txt"
  node -e "
const torch = require('./dist/index.js');
const s = torch.randn([64, 32000], { device: 'cuda' }).requiresGrad_(true), t = torch.randn([64, 32000], { device: 'cuda' });
const loss = torch.kdLoss(s, t, 2); loss.backward();
console.log('prebuilt CUDA binary: kdLoss on', s.device, '=', loss.item(), 'grad sum', s.grad.sum().item());
" 2>&1 | tee -a "$OUT/log.txt"
fi
log "done (vitest rc=$VITEST_RC, TMA smoke rc=$TMA_RC, TMA vitest rc=$VITEST_TMA_RC, NCCL rc=$NCCL_RC)"
