#!/usr/bin/env node
'use strict';
/**
 * libtorch discovery: the one place that decides which libtorch torchkd builds against and loads. It ships with the
 * package (plain JavaScript, found relative to the package root) because the loader needs it at run time.
 *
 * Used by binding.gyp (`<!@(node lib/libtorch.js --gyp ...)`), by CMakeLists.txt (`--cmake`), by the install and
 * set-up scripts and by the runtime loader (lib/loader.ts: `require(<package root>/lib/libtorch.js).discover()`).
 *
 * Order (first hit wins):
 *   1. TORCHKD_LIBTORCH, then LIBTORCH: a libtorch folder (include/ and lib/ inside it).
 *   2. A Python PyTorch install: interpreter from TORCHKD_PYTHON, else the project's venv (.venv next to
 *      package.json, or in the current directory), else python3/python on PATH.
 *   3. The per-user PyTorch cache that the install step and `npx torchkd setup` fill (lib/torch-cache.js:
 *      $TORCHKD_CACHE_DIR, else $XDG_CACHE_HOME/torchkd, else ~/.cache/torchkd).
 *   4. System packages (Debian's libtorch-dev: /usr/include/torch and the multiarch lib folder).
 *
 * Nothing here imports torch in Python (that takes seconds): the torch folder is located and its version file read.
 */
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const cache = require('./torch-cache.js');

const PACKAGE_ROOT = path.resolve(__dirname, '..');

// A relative TORCHKD_PYTHON path ('.venv-cuda/bin/python') names a file from the folder it was set in. It is made
// absolute once, here, so that child processes started in other folders (tests, `torchkd parity`) find the same
// interpreter. A bare command name ('python3') is left to the PATH.
{
  const py = process.env.TORCHKD_PYTHON;
  if (py && /[\\/]/.test(py) && !path.isAbsolute(py)) process.env.TORCHKD_PYTHON = path.resolve(py);
}
const PINNED_TORCH = cache.PINNED.cpu;

function exists(p) {
  try {
    fs.accessSync(p);
    return true;
  } catch {
    return false;
  }
}

function readVersionHeader(includeDir) {
  // 2.x keeps the numbers in headeronly/version.h (newer) or csrc/api/include/torch/version.h (older).
  const header = [
    path.join(includeDir, 'torch', 'headeronly', 'version.h'),
    path.join(includeDir, 'torch', 'csrc', 'api', 'include', 'torch', 'version.h'),
  ].find((h) => exists(h) && /#define\s+TORCH_VERSION_MAJOR/.test(fs.readFileSync(h, 'utf8')));
  if (!header) return null;
  const text = fs.readFileSync(header, 'utf8');
  const pick = (name) => {
    const m = text.match(new RegExp(`#define\\s+${name}\\s+(\\d+)`));
    return m ? m[1] : null;
  };
  const parts = [pick('TORCH_VERSION_MAJOR'), pick('TORCH_VERSION_MINOR'), pick('TORCH_VERSION_PATCH')];
  return parts.every((p) => p !== null) ? parts.join('.') : null;
}

/** The C++ ABI of a libtorch build, read off libc10's symbol names (new-ABI builds mangle std::string as __cxx11). */
function detectCxx11Abi(libDir) {
  const lib = path.join(libDir, 'libc10.so');
  if (!exists(lib)) return null;
  const buf = fs.readFileSync(lib);
  return buf.indexOf('B5cxx11') >= 0;
}

/** Describe a libtorch laid out as include/ + lib/ (a libtorch zip, or the torch folder of a pip wheel). */
function describeFolder(root, source, extra = {}) {
  const includeDir = path.join(root, 'include');
  const libDir = path.join(root, 'lib');
  const problems = [];
  if (!exists(path.join(includeDir, 'torch'))) problems.push(`no headers at ${includeDir}/torch`);
  if (!exists(path.join(libDir, 'libtorch.so'))) problems.push(`no libtorch.so in ${libDir}`);
  if (problems.length) return { ok: false, source, root, reason: problems.join('; ') };
  let version = readVersionHeader(includeDir);
  let versionString = extra.versionString || version;
  let cudaVersion = extra.cudaVersion === undefined ? null : extra.cudaVersion;
  const cuda = exists(path.join(libDir, 'libtorch_cuda.so'));
  if (cuda && !cudaVersion) {
    const buildVersion = path.join(root, 'build-version');
    const m = exists(buildVersion) && fs.readFileSync(buildVersion, 'utf8').match(/\+cu(\d+)/);
    if (m) cudaVersion = `${m[1].slice(0, -1)}.${m[1].slice(-1)}`;
  }
  return finish({
    ok: true,
    source,
    root,
    version,
    versionString,
    cuda,
    cudaVersion: cuda ? cudaVersion || 'unknown' : null,
    cxx11abi: detectCxx11Abi(libDir),
    includeDirs: [includeDir, path.join(includeDir, 'torch', 'csrc', 'api', 'include')],
    libDir,
    python: extra.python || null,
  });
}

/**
 * Whether libtorch runs its intra-op parallelism on OpenMP (ATen/Config.h). Its `at::parallel_for` is then an inline
 * `#pragma omp parallel` in our own objects, so they must be compiled with -fopenmp, or every parallel loop of ours
 * silently runs on one thread. Linking -fopenmp adds libgomp.so.1, which resolves to the copy libtorch already loaded.
 */
function detectOpenMP(includeDirs) {
  const config = path.join(includeDirs[0], 'ATen', 'Config.h');
  if (!exists(config)) return false;
  return /#define\s+AT_PARALLEL_OPENMP\s+1/.test(fs.readFileSync(config, 'utf8'));
}

/**
 * Which c10d backends libtorch was built with (caffe2/core/macros.h lists its build options): torch.distributed
 * needs the c10d headers, its Gloo backend USE_GLOO, NCCL USE_NCCL (CUDA builds).
 */
function detectDistributed(includeDirs) {
  const out = { distributed: false, gloo: false, nccl: false };
  out.distributed = exists(path.join(includeDirs[0], 'torch', 'csrc', 'distributed', 'c10d', 'ProcessGroup.hpp'));
  const macros = path.join(includeDirs[0], 'caffe2', 'core', 'macros.h');
  if (!out.distributed || !exists(macros)) return out;
  const text = fs.readFileSync(macros, 'utf8');
  out.gloo = /\{"USE_GLOO",\s*"ON"\}/.test(text) && glooStubCovers(includeDirs[0]);
  out.nccl = /\{"USE_NCCL",\s*"ON"\}/.test(text);
  return out;
}

/** The stand-in Gloo headers ProcessGroupGloo.hpp includes (the wheels ship none): native/distributed/gloo_stub. */
const GLOO_STUB_INCLUDE = path.join(PACKAGE_ROOT, 'native', 'distributed', 'gloo_stub');

/**
 * Whether the stand-ins cover every Gloo header this libtorch's ProcessGroupGloo.hpp includes. A libtorch whose
 * header wants others is built without the Gloo backend (isGlooAvailable() is then false) rather than not at all.
 */
function glooStubCovers(includeDir) {
  const header = path.join(includeDir, 'torch', 'csrc', 'distributed', 'c10d', 'ProcessGroupGloo.hpp');
  if (!exists(header)) return false;
  const wanted = [...fs.readFileSync(header, 'utf8').matchAll(/#include\s*<(gloo\/[^>]+)>/g)].map((m) => m[1]);
  return wanted.every((h) => exists(path.join(GLOO_STUB_INCLUDE, h)));
}

/** Whether the build uses the Gloo stand-ins (Gloo available, torch.distributed not turned off). */
function glooStubWanted(info) {
  return !!(info.dist && info.dist.gloo) && process.env.TORCHKD_NO_DISTRIBUTED !== '1';
}

/** Whether nccl.h (the version the CUDA wheel pins, under site-packages/nvidia/nccl) is on the CUDA include path. */
function ncclHeaderFound(info) {
  return cudaIncludeDirs(info).some((d) => exists(path.join(d, 'nccl.h')));
}

/**
 * Defines for the distributed sources: TORCHKD_DISTRIBUTED (c10d present), USE_C10D_GLOO, and USE_C10D_NCCL in the
 * CUDA flavour only (its header needs the CUDA and nccl.h include folders). TORCHKD_NO_DISTRIBUTED=1 builds without
 * torch.distributed (isAvailable() is then false), for a libtorch whose c10d headers the sources do not fit.
 */
function distributedDefines(info, cudaFlavour) {
  if (process.env.TORCHKD_NO_DISTRIBUTED === '1') return [];
  const d = info.dist || {};
  return [
    ...(d.distributed ? ['TORCHKD_DISTRIBUTED=1'] : []),
    ...(d.distributed && d.gloo ? ['USE_C10D_GLOO'] : []),
    ...(d.distributed && d.nccl && cudaFlavour && ncclHeaderFound(info) ? ['USE_C10D_NCCL'] : []),
  ];
}

/** Add the library list, the flavour key used to name prebuilt binaries, and the CUDA runtime paths. */
function finish(info) {
  const libs = ['c10', 'torch_cpu', 'torch'];
  if (info.cuda) libs.push('c10_cuda', 'torch_cuda');
  info.libs = libs;
  info.openmp = detectOpenMP(info.includeDirs);
  info.dist = detectDistributed(info.includeDirs);
  const [major, minor] = (info.version || '0.0').split('.');
  info.minor = `${major}.${minor}`;
  info.flavor = `torch${info.minor}-${info.cuda ? `cu${String(info.cudaVersion).replace('.', '')}` : 'cpu'}`;
  // Libraries the loader preloads with RTLD_GLOBAL, in dependency order; the CUDA ones only when present.
  info.preload = ['libc10.so', 'libtorch_cpu.so', ...(info.cuda ? ['libc10_cuda.so', 'libtorch_cuda.so'] : []), 'libtorch.so']
    .map((f) => path.join(info.libDir, f))
    .filter(exists);
  return info;
}

function fromLibtorchEnv() {
  for (const name of ['TORCHKD_LIBTORCH', 'LIBTORCH']) {
    const value = process.env[name];
    if (!value) continue;
    if (!exists(value)) return { ok: false, source: name, root: value, reason: `${name}=${value} does not exist` };
    return describeFolder(path.resolve(value), name);
  }
  return null;
}

/** Ask an interpreter where torch lives without importing it (importing takes seconds). */
function torchFromPython(python) {
  const code =
    'import importlib.util,sys\n' +
    's=importlib.util.find_spec("torch")\n' +
    'print(s.submodule_search_locations[0] if s and s.submodule_search_locations else "")';
  const r = spawnSync(python, ['-c', code], { encoding: 'utf8', timeout: 20000 });
  if (r.error || r.status !== 0) return { ok: false, reason: `${python} could not be run` };
  const dir = r.stdout.trim();
  if (!dir) return { ok: false, reason: `${python} has no torch installed` };
  return { ok: true, dir };
}

function readPythonVersionFile(torchDir) {
  const file = path.join(torchDir, 'version.py');
  if (!exists(file)) return {};
  const text = fs.readFileSync(file, 'utf8');
  const v = text.match(/__version__\s*=\s*['"]([^'"]+)['"]/);
  const c = text.match(/^cuda\s*(?::[^=]*)?=\s*['"]([^'"]+)['"]/m);
  return { versionString: v ? v[1] : null, cudaVersion: c ? c[1] : null };
}

function venvPythons() {
  const roots = [PACKAGE_ROOT, process.cwd()];
  const out = [];
  for (const r of roots) {
    const p = path.join(r, '.venv', 'bin', 'python');
    if (exists(p) && !out.includes(p)) out.push(p);
  }
  return out;
}

function venvTorchDirs() {
  // The project venv is read directly (no interpreter start) when its layout is the usual one.
  const out = [];
  for (const r of [PACKAGE_ROOT, process.cwd()]) {
    const lib = path.join(r, '.venv', 'lib');
    if (!exists(lib)) continue;
    for (const py of fs.readdirSync(lib)) {
      const dir = path.join(lib, py, 'site-packages', 'torch');
      if (exists(path.join(dir, 'lib', 'libtorch.so')) && !out.includes(dir)) out.push({ dir, python: path.join(r, '.venv', 'bin', 'python') });
    }
  }
  return out;
}

function fromPythonDir(dir, python, source) {
  return describeFolder(dir, source, { ...readPythonVersionFile(dir), python });
}

function fromPython(tried) {
  if (process.env.TORCHKD_PYTHON) {
    const python = process.env.TORCHKD_PYTHON;
    const r = torchFromPython(python);
    if (!r.ok) return { ok: false, source: 'TORCHKD_PYTHON', reason: r.reason };
    return fromPythonDir(r.dir, python, `python (TORCHKD_PYTHON=${python})`);
  }
  for (const { dir, python } of venvTorchDirs()) {
    const info = fromPythonDir(dir, python, `project venv (${path.dirname(path.dirname(python))})`);
    if (info.ok) return info;
    tried.push(info.reason);
  }
  const candidates = [...venvPythons(), 'python3', 'python'];
  for (const python of candidates) {
    const r = torchFromPython(python);
    if (!r.ok) {
      tried.push(r.reason);
      continue;
    }
    const info = fromPythonDir(r.dir, python, `python (${python})`);
    if (info.ok) return info;
    tried.push(info.reason);
  }
  return null;
}

function fromCache(tried) {
  const entries = cache.cachedEntries();
  if (!entries.length) {
    tried.push(`the PyTorch cache ${cache.cacheRoot()} has no complete entry`);
    return null;
  }
  for (const e of entries) {
    const info = fromPythonDir(e.torchDir, e.python, `the PyTorch cache (${e.dir})`);
    if (info.ok) return info;
    tried.push(info.reason);
  }
  return null;
}

function fromSystem() {
  const includeRoot = '/usr/include';
  if (!exists(path.join(includeRoot, 'torch', 'csrc'))) return null;
  const libDirs = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib'];
  const libDir = libDirs.find((d) => exists(path.join(d, 'libtorch.so')));
  if (!libDir) return null;
  const version = readVersionHeader(includeRoot);
  return finish({
    ok: true,
    source: 'system packages',
    root: '/usr',
    version,
    versionString: version,
    cuda: exists(path.join(libDir, 'libtorch_cuda.so')),
    cudaVersion: null,
    cxx11abi: detectCxx11Abi(libDir),
    includeDirs: [includeRoot, path.join(includeRoot, 'torch', 'csrc', 'api', 'include')],
    libDir,
    python: null,
  });
}

let cached = null;

/**
 * Find libtorch. Returns `{ok: true, version, versionString, cuda, cudaVersion, cxx11abi, includeDirs, libDir,
 * libs, flavor, preload, source, root, python}` or `{ok: false, reason, tried}`.
 */
function discover({ refresh = false } = {}) {
  if (cached && !refresh) return cached;
  const tried = [];
  let info = fromLibtorchEnv();
  if (!info) info = fromPython(tried);
  if (!info) info = fromCache(tried);
  if (!info) info = fromSystem();
  if (!info) {
    info = {
      ok: false,
      source: null,
      reason: 'no libtorch found',
      tried,
    };
  }
  if (!info.ok) info.fix = howToFix(info);
  cached = info;
  return info;
}

/** How to get a libtorch, the one command first: `npm run setup` in a checkout, `npx torchkd setup` elsewhere. */
function howToFix(info) {
  if (['TORCHKD_LIBTORCH', 'LIBTORCH', 'TORCHKD_PYTHON'].includes(info.source)) {
    const what = info.source === 'TORCHKD_PYTHON' ? 'a Python that has torch installed' : 'an unpacked libtorch folder (with include/ and lib/)';
    return [`point ${info.source} at ${what}, or unset it`];
  }
  if (exists(path.join(PACKAGE_ROOT, 'lib', 'index.ts'))) {
    return [
      `run \`npm run setup\` (creates the project venv .venv with torch==${PINNED_TORCH})`,
      'point TORCHKD_PYTHON at a Python that has torch installed',
      'point TORCHKD_LIBTORCH at an unpacked libtorch folder (with include/ and lib/)',
    ];
  }
  const { flavour } = cache.machineFlavour();
  return [
    `run \`npx torchkd setup\` (installs PyTorch ${cache.PINNED[flavour]} (${flavour === 'cpu' ? 'CPU' : 'CUDA'}) into ${cache.cacheRoot()}, shared by all projects)`,
    'point TORCHKD_PYTHON at a Python that has torch installed',
    'point TORCHKD_LIBTORCH at an unpacked libtorch folder (with include/ and lib/)',
  ];
}

function describe(info) {
  if (!info.ok) return `libtorch not found (${info.reason})`;
  return `libtorch ${info.versionString || info.version} (${info.cuda ? `CUDA ${info.cudaVersion}` : 'CPU'}, ` +
    `${info.cxx11abi ? 'C++11 ABI' : 'pre-C++11 ABI'}) from ${info.source} at ${info.root}`;
}

function requireFound() {
  const info = discover();
  if (!info.ok) {
    process.stderr.write(`torchkd: ${describe(info)}\n  fix: ${info.fix.join('\n  or:  ')}\n`);
    process.exit(1);
  }
  return info;
}

/** Flags for binding.gyp, each printed as one gyp list (space separated, as `<!@(...)` expects). */
function gypOutput(what) {
  const info = requireFound();
  const abi = info.cxx11abi === false ? 0 : 1;
  const cudaFlavour = info.cuda && process.env.TORCHKD_NO_CUDA !== '1';
  switch (what) {
    case 'include_dirs':
      return [...(glooStubWanted(info) ? [GLOO_STUB_INCLUDE] : []), ...info.includeDirs].join(' ');
    case 'defines':
      return [`_GLIBCXX_USE_CXX11_ABI=${abi}`, ...(cudaFlavour ? ['TORCHKD_WITH_CUDA=1'] : []), ...distributedDefines(info, cudaFlavour)].join(' ');
    case 'libraries':
      // --no-as-needed keeps libtorch_cuda: nothing references it by symbol, but its static initialisers register
      // the CUDA backend. The rpath lets a source build load even without the preloader; prebuilt binaries are made
      // without it (TORCHKD_NO_RPATH=1: the build machine's paths mean nothing elsewhere; the preloader finds libtorch).
      return [
        `-L${info.libDir}`,
        ...(process.env.TORCHKD_NO_RPATH === '1' ? [] : [`-Wl,-rpath,${info.libDir}`]),
        '-Wl,--no-as-needed',
        ...info.libs.map((l) => `-l${l}`),
        ...(info.cuda && process.env.TORCHKD_NO_CUDA !== '1' ? cudartFlags(cudaRuntimeLibDir(info)) : []),
        '-Wl,--as-needed',
      ].join(' ');
    case 'openmp':
      return info.openmp ? '-fopenmp' : '';
    case 'cuda':
      return info.cuda && process.env.TORCHKD_NO_CUDA !== '1' ? '1' : '0';
    case 'cuda_include':
      return cudaIncludeDirs(info).join(' ');
    default:
      throw new Error(`unknown gyp query ${what}`);
  }
}

/** Where the CUDA runtime lives: the nvidia wheel next to a pip torch, else the toolkit. */
function cudaToolkit() {
  const candidates = [process.env.CUDA_HOME, process.env.CUDA_PATH, '/usr/local/cuda'].filter(Boolean);
  return candidates.find((c) => exists(path.join(c, 'bin', 'nvcc'))) || null;
}

function cudaRuntimeLibDir(info) {
  const site = path.dirname(info.root);
  for (const d of [path.join(site, 'nvidia', 'cu13', 'lib'), path.join(site, 'nvidia', 'cuda_runtime', 'lib')]) {
    if (exists(d) && fs.readdirSync(d).some((f) => f.startsWith('libcudart.so'))) return d;
  }
  const tk = cudaToolkit();
  return tk ? path.join(tk, 'lib64') : info.libDir;
}

/** -L<dir> -lcudart, or -l:libcudart.so.NN where (as in the nvidia wheels) only the versioned runtime is present. */
function cudartFlags(dir) {
  let lib = '-lcudart';
  if (exists(dir) && !exists(path.join(dir, 'libcudart.so'))) {
    const versioned = fs.readdirSync(dir).filter((f) => /^libcudart\.so\.\d+$/.test(f)).sort();
    if (versioned.length) lib = `-l:${versioned[versioned.length - 1]}`;
  }
  return [`-L${dir}`, lib];
}

/**
 * Headers libtorch's CUDA headers include (cuda_runtime, cusparse, cublas...): the toolkit's, then those of the
 * nvidia-* wheels installed next to a pip torch (a minimal toolkit may lack cusparse.h and friends).
 */
function cudaIncludeDirs(info) {
  const dirs = [];
  const tk = cudaToolkit();
  if (tk) dirs.push(path.join(tk, 'include'));
  const nvidia = path.join(path.dirname(info.root), 'nvidia');
  if (exists(nvidia)) {
    for (const pkg of fs.readdirSync(nvidia).sort()) {
      const inc = path.join(nvidia, pkg, 'include');
      if (exists(inc)) dirs.push(inc);
    }
  }
  return dirs;
}

/** A CMake script that sets TORCHKD_* variables (CMakeLists.txt includes it). */
function cmakeOutput() {
  const info = requireFound();
  const q = (s) => `"${String(s).replace(/\\/g, '/').replace(/"/g, '\\"')}"`;
  const lines = [
    `set(TORCHKD_TORCH_VERSION ${q(info.versionString || info.version)})`,
    `set(TORCHKD_TORCH_FLAVOR ${q(info.flavor)})`,
    `set(TORCHKD_TORCH_INCLUDE_DIRS ${info.includeDirs.map(q).join(' ')})`,
    `set(TORCHKD_TORCH_LIB_DIR ${q(info.libDir)})`,
    `set(TORCHKD_TORCH_LIBS ${info.libs.join(' ')})`,
    `set(TORCHKD_TORCH_CUDA ${info.cuda ? 'ON' : 'OFF'})`,
    `set(TORCHKD_OPENMP ${info.openmp ? 'ON' : 'OFF'})`,
    `set(TORCHKD_CXX11_ABI ${info.cxx11abi === false ? 0 : 1})`,
    `set(TORCHKD_CUDART_LIB_DIR ${q(info.cuda ? cudaRuntimeLibDir(info) : '')})`,
    `set(TORCHKD_CUDA_INCLUDE_DIRS ${info.cuda ? cudaIncludeDirs(info).map(q).join(' ') : '""'})`,
    // Distributed: defines for the CPU flavour and the CUDA flavour (USE_C10D_NCCL), and the Gloo stand-in headers.
    `set(TORCHKD_DIST_DEFINES ${distributedDefines(info, false).map(q).join(' ') || '""'})`,
    `set(TORCHKD_DIST_DEFINES_CUDA ${distributedDefines(info, info.cuda).map(q).join(' ') || '""'})`,
    `set(TORCHKD_GLOO_STUB_INCLUDE ${glooStubWanted(info) ? q(GLOO_STUB_INCLUDE) : '""'})`,
  ];
  return lines.join('\n') + '\n';
}

module.exports = { discover, describe, cudaToolkit, PINNED_TORCH, PACKAGE_ROOT, cache };

if (require.main === module) {
  const args = process.argv.slice(2);
  if (args[0] === '--gyp') {
    process.stdout.write(gypOutput(args[1]));
  } else if (args[0] === '--cmake') {
    process.stdout.write(cmakeOutput());
  } else if (args[0] === '--json') {
    process.stdout.write(JSON.stringify(discover(), null, 2) + '\n');
  } else {
    const info = discover();
    console.log(describe(info));
    if (!info.ok) {
      console.log(`fix: ${info.fix.join('\n or: ')}`);
      process.exit(1);
    }
  }
}
