/**
 * Finds libtorch, makes it resolvable, and loads the matching torchkd binary.
 *
 * Order of binaries: `TORCHKD_BINARY` (a path), then a source build in build/Release (only if it was built against
 * the libtorch found now), then a prebuilt binary in prebuilds/<platform>-<arch>/ for the found libtorch's flavour
 * (`torch<major.minor>-cpu` or `-cu<NNN>`). With a CUDA libtorch the CUDA binary comes first when a GPU is visible
 * (an NVIDIA device node and driver, and CUDA_VISIBLE_DEVICES not empty), else the CPU binary of the same version does;
 * either way the other is the fallback, so a machine without a GPU never fails because a CUDA binary exists.
 * Before the binary loads, the tiny torchkd_preload addon dlopen()s libc10/libtorch_cpu/(CUDA)/libtorch with
 * RTLD_GLOBAL, so no LD_LIBRARY_PATH is needed. Any failure becomes one {@link TorchError} that says what was
 * found, what was needed and how to fix it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

import { TorchError } from './errors';

/** What discovery reported (lib/libtorch.js). */
export interface LibtorchInfo {
  ok: boolean;
  source: string | null;
  root?: string;
  version?: string | null;
  versionString?: string | null;
  cuda?: boolean;
  cudaVersion?: string | null;
  cxx11abi?: boolean | null;
  includeDirs?: string[];
  libDir?: string;
  libs?: string[];
  flavor?: string;
  preload?: string[];
  python?: string | null;
  reason?: string;
  tried?: string[];
  fix?: string[];
}

/** Where the loaded binary came from, for `torchkd doctor`. */
export interface LoadReport {
  libtorch: LibtorchInfo;
  binary: string | null;
  kind: 'env' | 'source build' | 'prebuilt' | null;
  flavor: string | null;
  candidates: string[];
  /** Why the prebuilt binaries were tried in this order (CUDA libtorch: is a GPU visible?). */
  choice: string | null;
  error: string | null;
  /**
   * The spin count torchkd gave libgomp (libtorch's OpenMP runtime) at load: `GOMP_SPINCOUNT` set while the binary
   * loaded (see {@link OMP_SPIN_COUNT}), or null when the user's own OpenMP settings or TORCHKD_OMP_TUNING=0 left it
   * alone. (A libgomp that another addon loaded into the process earlier keeps what it read then.)
   */
  ompSpinCount: number | null;
}

/**
 * How long an OpenMP worker of libtorch spins for the next parallel region before it sleeps: 10,000 iterations (tens
 * of microseconds) instead of libgomp's 300,000. The gaps between a training step's parallel ops are shorter than
 * that, so a quiet machine keeps its speed; on a busy one, workers that spin for long steal the cores the other
 * threads of their own team need, and a 2-thread ResNet forward takes three times as long (libgomp's default, and
 * Python's). Set when the user has set neither OMP_WAIT_POLICY nor GOMP_SPINCOUNT and TORCHKD_OMP_TUNING is not 0;
 * the variable is removed again once the binary has loaded, so child processes do not inherit it.
 */
export const OMP_SPIN_COUNT = 10_000;

/** Runs `load` with GOMP_SPINCOUNT set as {@link OMP_SPIN_COUNT} says, and returns what it loaded and the count set. */
function withOmpTuning<T>(load: () => T): { value: T; spin: number | null } {
  const env = process.env;
  if (env.TORCHKD_OMP_TUNING === '0' || env.OMP_WAIT_POLICY !== undefined || env.GOMP_SPINCOUNT !== undefined) return { value: load(), spin: null };
  env.GOMP_SPINCOUNT = String(OMP_SPIN_COUNT);
  try {
    return { value: load(), spin: OMP_SPIN_COUNT };
  } finally {
    delete env.GOMP_SPINCOUNT;
  }
}

interface Discovery {
  discover(opts?: { refresh?: boolean }): LibtorchInfo;
  describe(info: LibtorchInfo): string;
}

/** The package root (holds package.json), whether running from lib/ (sources) or dist/ (compiled). */
export function packageRoot(): string {
  let dir = __dirname;
  for (let i = 0; i < 4; i++) {
    const candidate = path.join(dir, 'package.json');
    if (fs.existsSync(candidate)) {
      try {
        if (JSON.parse(fs.readFileSync(candidate, 'utf8')).name === 'torchkd') return dir;
      } catch {
        // keep walking up
      }
    }
    dir = path.dirname(dir);
  }
  return path.resolve(__dirname, '..');
}

/**
 * libtorch discovery (lib/libtorch.js, plain JavaScript shipped next to lib/'s sources, so it is found from the
 * package root whether this runs from lib/ or from dist/).
 */
function discovery(): Discovery {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(path.join(packageRoot(), 'lib', 'libtorch.js')) as Discovery;
}

/** The build record written next to a source build (scripts/setup.js), naming the libtorch it was built against. */
export function readBuildRecord(dir: string): { flavor?: string; libtorch?: string; root?: string } | null {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, 'torchkd-build.json'), 'utf8'));
  } catch {
    return null;
  }
}

/**
 * Why the source build of the install step (or `torchkd setup`) failed, as scripts/install.js recorded it: the lines of
 * the build output that give the cause, and where the full log is. Null when none failed.
 */
export function readBuildFailure(dir: string): { flavor?: string; libtorch?: string; cause: string; log: string | null } | null {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, 'torchkd-build-failure.json'), 'utf8'));
  } catch {
    return null;
  }
}

/**
 * Whether an NVIDIA GPU is visible to this process, judged without loading any CUDA library: a device node
 * (/dev/nvidia0...) and the kernel driver (/proc/driver/nvidia), or under WSL 2 the GPU paravirtualisation device
 * (/dev/dxg) with the driver's libcuda in /usr/lib/wsl/lib; and CUDA_VISIBLE_DEVICES not set to none.
 */
export function gpuVisible(fsRoot = '/'): { visible: boolean; why: string } {
  const cvd = process.env.CUDA_VISIBLE_DEVICES;
  if (cvd !== undefined && (cvd.trim() === '' || cvd.trim() === '-1')) return { visible: false, why: `CUDA_VISIBLE_DEVICES='${cvd}'` };
  let devs: string[] = [];
  try {
    devs = fs.readdirSync(path.join(fsRoot, 'dev'));
  } catch {
    // no /dev listing: treat as no device
  }
  const nodes = devs.filter((f) => /^nvidia\d+$/.test(f));
  if (!nodes.length) {
    if (devs.includes('dxg')) {
      let wsl: string[] = [];
      try {
        wsl = fs.readdirSync(path.join(fsRoot, 'usr', 'lib', 'wsl', 'lib')).filter((f) => f.startsWith('libcuda.so'));
      } catch {
        // no WSL driver libraries
      }
      if (wsl.length) return { visible: true, why: 'WSL 2 GPU device (/dev/dxg) and the driver\'s libcuda' };
      return { visible: false, why: 'WSL 2 /dev/dxg but no libcuda in /usr/lib/wsl/lib' };
    }
    return { visible: false, why: 'no /dev/nvidia<N> device' };
  }
  if (!fs.existsSync(path.join(fsRoot, 'proc', 'driver', 'nvidia'))) return { visible: false, why: 'no NVIDIA kernel driver (/proc/driver/nvidia)' };
  return { visible: true, why: `${nodes.length} NVIDIA device node(s) and a driver` };
}

/**
 * The prebuilt binaries to try, in order, for the found libtorch: its own flavour; with a CUDA libtorch also the CPU
 * flavour of the same version, first when no GPU is visible. A CPU libtorch only ever gets the CPU flavour.
 */
export function prebuildCandidates(dir: string, info: LibtorchInfo, gpu: { visible: boolean; why: string } = gpuVisible()): { files: string[]; choice: string | null } {
  if (!fs.existsSync(dir) || !info.flavor) return { files: [], choice: null };
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.node') && f.startsWith('torchkd-'));
  let want = [info.flavor];
  let choice: string | null = null;
  if (info.cuda) {
    const cpu = info.flavor.replace(/-cu\d+$/, '-cpu');
    want = gpu.visible ? [info.flavor, cpu] : [cpu, info.flavor];
    choice = gpu.visible
      ? `libtorch has CUDA and a GPU is visible (${gpu.why}): the CUDA binary first`
      : `libtorch has CUDA but no GPU is visible (${gpu.why}): the CPU binary first, the CUDA one as fallback`;
  }
  const out: string[] = [];
  for (const flavor of want) {
    const hit = files.find((f) => f.startsWith(`torchkd-${flavor}.`));
    if (hit) out.push(path.join(dir, hit));
  }
  return { files: out, choice };
}

function loadNode(file: string): unknown {
  const mod = { exports: {} as unknown };
  process.dlopen(mod, file);
  return mod.exports;
}

function preload(binaryDir: string, info: LibtorchInfo): void {
  const preloader = path.join(binaryDir, 'torchkd_preload.node');
  if (!fs.existsSync(preloader)) return; // a source build carries an rpath to its libtorch instead
  const p = loadNode(preloader) as { preload(lib: string): boolean };
  for (const lib of info.preload ?? []) p.preload(lib);
}

let report: LoadReport | null = null;

function failure(info: LibtorchInfo, what: string, candidates: string[]): TorchError {
  const d = discovery();
  const root = packageRoot();
  const checkout = fs.existsSync(path.join(root, 'lib', 'index.ts'));
  const found = info.ok ? d.describe(info) : `no usable libtorch (${info.reason ?? 'not found'})`;
  const failed = info.ok ? readBuildFailure(path.join(root, 'build')) : null;
  const built = failed && (!failed.flavor || failed.flavor === info.flavor) ? failed : null;
  const fixes = info.ok
    ? [
        checkout
          ? 'build torchkd against this libtorch: `npm run build`'
          : 'run `npx torchkd setup` (builds torchkd from source against this libtorch; needs a C++ compiler and make)',
        'install the PyTorch version a prebuilt binary was made for (see `npx torchkd doctor`)',
      ]
    : (info.fix ?? []);
  const lines = [
    `torchkd could not load: ${what}`,
    `  found:  ${found}`,
    `  needed: a torchkd binary built for that libtorch (${info.flavor ?? 'libtorch 2.x'}) and loadable with it`,
    ...(candidates.length ? [`  tried:  ${candidates.join(', ')}`] : []),
    ...(built ? [`  build:  the source build failed: ${built.cause.split('\n').join('\n          ')}`, ...(built.log ? [`          (full log: ${built.log})`] : [])] : []),
    ...fixes.map((f, i) => (i === 0 ? `  fix:    ${f}` : `     or: ${f}`)),
    '  run `npx torchkd doctor` for details',
  ];
  const err = new TorchError(lines.join('\n'), 'LOAD_FAILED');
  return err;
}

/** Load the native binding (once). Throws a {@link TorchError} with code LOAD_FAILED when it cannot. */
export function loadBinding(): unknown {
  const root = packageRoot();
  const d = discovery();
  const info = d.discover();
  const candidates: string[] = [];
  report = { libtorch: info, binary: null, kind: null, flavor: info.flavor ?? null, candidates, choice: null, error: null, ompSpinCount: null };
  if (!info.ok) {
    const err = failure(info, 'libtorch was not found', candidates);
    report.error = err.message;
    throw err;
  }
  const tries: { file: string; kind: LoadReport['kind'] }[] = [];
  if (process.env.TORCHKD_BINARY) tries.push({ file: path.resolve(process.env.TORCHKD_BINARY), kind: 'env' });
  const source = path.join(root, 'build', 'Release');
  const record = readBuildRecord(path.join(root, 'build'));
  if (fs.existsSync(path.join(source, 'torchkd.node'))) {
    if (!record || record.flavor === info.flavor) tries.push({ file: path.join(source, 'torchkd.node'), kind: 'source build' });
    else candidates.push(`${path.join(source, 'torchkd.node')} (built for ${record.flavor}, skipped)`);
  }
  const prebuilt = prebuildCandidates(path.join(root, 'prebuilds', `${process.platform}-${process.arch}`), info);
  report.choice = prebuilt.choice;
  for (const file of prebuilt.files) tries.push({ file, kind: 'prebuilt' });
  const errors: string[] = [];
  for (const t of tries) {
    candidates.push(t.file);
    try {
      const { value: binding, spin } = withOmpTuning(() => {
        preload(path.dirname(t.file), info);
        return loadNode(t.file);
      });
      report.binary = t.file;
      report.kind = t.kind;
      report.ompSpinCount = spin;
      return binding;
    } catch (e) {
      errors.push(`${path.basename(t.file)}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  const what = tries.length
    ? `no binary loaded (${errors.join('; ')})`
    : `no torchkd binary for ${info.flavor} on ${process.platform}-${process.arch}`;
  const err = failure(info, what, candidates);
  report.error = err.message;
  throw err;
}

/** How the binding was (or was not) loaded; null before the first load attempt. */
export function loadReport(): LoadReport | null {
  return report;
}
