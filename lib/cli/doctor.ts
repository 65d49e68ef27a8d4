/**
 * `torchkd doctor`: what was found, what loaded, and why anything failed — the first thing to run when install
 * goes wrong. Works even when the native binding cannot load.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';

import { gpuVisible, loadBinding, loadReport, packageRoot, readBuildFailure, readBuildRecord } from '../loader';
import * as path from 'node:path';

/** Runs the checks and prints a report; returns the exit code (0 when torchkd loads). */
export function doctor(out: (line: string) => void = console.log): number {
  out(`torchkd doctor — node ${process.version} (${process.platform}-${process.arch}, N-API ${process.versions.napi}), ${os.cpus().length} CPUs`);
  let loaded = false;
  let loadError: string | null = null;
  try {
    loadBinding();
    loaded = true;
  } catch (e) {
    loadError = (e as Error).message;
  }
  const report = loadReport();
  const lib = report?.libtorch;
  if (lib?.ok) {
    out(`libtorch:  ${lib.versionString ?? lib.version} (${lib.cuda ? `CUDA ${lib.cudaVersion}` : 'CPU'}, ${lib.cxx11abi ? 'C++11 ABI' : 'pre-C++11 ABI'})`);
    out(`  found via ${lib.source}`);
    out(`  at ${lib.root}`);
    out(`  flavour ${lib.flavor}`);
  } else {
    out(`libtorch:  not found (${lib?.reason ?? 'unknown'})`);
    for (const t of lib?.tried ?? []) out(`  tried: ${t}`);
  }
  out(`cache:     ${pytorchCache()}`);
  const record = readBuildRecord(path.join(packageRoot(), 'build'));
  if (record) out(`source build: built for ${record.flavor} (${record.libtorch})`);
  const failed = readBuildFailure(path.join(packageRoot(), 'build'));
  if (failed) {
    out(`source build: failed for ${failed.flavor}: ${failed.cause.split('\n').join('\n  ')}`);
    if (failed.log) out(`  full log: ${failed.log}`);
  }
  if (report?.binary) out(`binary:    ${report.binary} (${report.kind})`);
  else out('binary:    none loaded');
  if (report?.choice) out(`  prebuilt order: ${report.choice}`);
  if (loaded) {
    // Loaded: ask libtorch itself.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const torch = require('../index') as typeof import('../index');
    const native = require('../binding').native() as import('../binding').NativeBinding;
    out(`version:   torchkd ${torch.version.torchkd}, libtorch ${torch.version.libtorch}, CUDA ${torch.version.cuda ?? 'none'}`);
    out(`CUDA:      binary ${torch.cuda.isBuiltWithCuda() ? 'has' : 'has no'} CUDA kernels; ${torch.cuda.isAvailable() ? `${torch.cuda.deviceCount()} device(s)` : 'no usable device'}`);
    if (torch.cuda.isAvailable()) {
      for (let d = 0; d < torch.cuda.deviceCount(); d++) {
        const p = torch.cuda.getDeviceProperties(d);
        out(`  cuda:${d} ${p.name} (sm_${p.major}${p.minor}, ${(p.totalMemory / 2 ** 30).toFixed(1)} GiB, ${p.multiProcessorCount} SMs, ${p.l2CacheSize / 2 ** 20} MiB L2)`);
      }
    } else if (lib?.cuda && !torch.cuda.isBuiltWithCuda()) {
      out(
        gpuVisible().visible
          ? '  (libtorch has CUDA but the loaded binary is the CPU flavour: no prebuilt CUDA binary for this libtorch; build from source for CUDA)'
          : '  (libtorch has CUDA but no GPU is visible, so the CPU binary was preferred)',
      );
    }
    out(`threads:   ${torch.getNumThreads()} intra-op, ${torch.getNumInteropThreads()} inter-op`);
    for (const line of native.parallelInfo().split('\n').filter((l) => /OpenMP|MKL|ATen parallel/.test(l))) out(`  ${line.trim()}`);
    out(
      report?.ompSpinCount != null
        ? `  OpenMP workers spin ${report.ompSpinCount} iterations before sleeping (GOMP_SPINCOUNT at load; TORCHKD_OMP_TUNING=0 keeps libgomp's default)`
        : "  OpenMP spin: libgomp's (OMP_WAIT_POLICY/GOMP_SPINCOUNT of the environment, or TORCHKD_OMP_TUNING=0)",
    );
    const thp = hugePages();
    if (thp) out(`memory:    ${thp}`);
    const t = torch.tensor([1, 2, 3], { dtype: 'float32' }).mul(2).sum().item();
    out(`check:     tensor([1, 2, 3]).mul(2).sum() = ${t} ${t === 12 ? 'ok' : 'WRONG'}`);
    return t === 12 ? 0 : 1;
  }
  out('');
  out(loadError ?? 'torchkd could not load');
  return 1;
}

/** The per-user PyTorch cache (lib/torch-cache.js): where it is and what it holds. */
function pytorchCache(): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const cache = require(path.join(packageRoot(), 'lib', 'torch-cache.js')) as {
    cacheRoot(): string;
    cachedEntries(): { dir: string }[];
  };
  const entries = cache.cachedEntries().map((e) => path.basename(e.dir));
  return `${cache.cacheRoot()} (${entries.length ? entries.join(', ') : 'empty'}; \`npx torchkd setup\` fills it when no libtorch is found)`;
}

/**
 * Whether large CPU tensors can live on transparent huge pages (Linux). libtorch does that only when
 * THP_MEM_ALLOC_ENABLE=1, as in PyTorch; where page faults are slow (VMs) it makes large allocations many times faster.
 */
function hugePages(): string | null {
  let mode: string;
  try {
    mode = /\[(\w+)\]/.exec(fs.readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8'))?.[1] ?? 'unknown';
  } catch {
    return null;
  }
  const env = process.env.THP_MEM_ALLOC_ENABLE;
  if (mode === 'never') return 'transparent huge pages are off on this system (large tensors fault in 4 KiB pages)';
  if (env === '1') return `THP_MEM_ALLOC_ENABLE=1: CPU tensors of 2 MB and more on transparent huge pages (system mode: ${mode})`;
  return `transparent huge pages: ${mode}; THP_MEM_ALLOC_ENABLE is not set, so large CPU tensors fault in 4 KiB pages (set it to 1 before starting Node to use huge pages, as in PyTorch)`;
}
