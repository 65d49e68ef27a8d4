#!/usr/bin/env node
'use strict';
/**
 * Idempotent set-up for a fresh checkout (development; a package install uses scripts/install.js instead);
 * `npm run build`, `npm test`, `npm start` and `npm run bench` run it first.
 *
 *   1. libtorch: if discovery finds none, create the project venv (.venv) and pip-install the pinned PyTorch
 *      (from the machine's local wheel store when pip is configured with one, else from PyPI). The venv's Python is
 *      also the parity oracle for fixtures and live checks. (Discovery order: lib/libtorch.js.)
 *   2. Fashion-MNIST: on Debian as root, apt-get install dataset-fashion-mnist when missing; elsewhere print how.
 *   3. npm dependencies: `npm ci` when node_modules is missing or older than package-lock.json.
 *   4. With --build: the native addon (node-gyp) when sources or the libtorch changed, and the TypeScript (tsc)
 *      when lib/ changed. Each step is skipped when its outputs are up to date, so a second run takes a second.
 *
 *   5. With --cuda-if-local (`npm test`): the CUDA build of PyTorch into .venv-cuda, for the CUDA-flavour build check
 *      (test/09), when nvcc is installed and the machine's local wheel store carries the wheel (no download);
 *      otherwise that check is skipped.
 *
 * Flags: --build (also build), --no-data (skip the dataset), --cuda (install the CUDA build of PyTorch into
 * .venv-cuda, for the CUDA-flavour build check; ~4.5 GB), --cuda-if-local (the same, only from a local wheel store),
 * --quiet.
 */
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const args = new Set(process.argv.slice(2));
const quiet = args.has('--quiet');

function log(msg) {
  if (!quiet) process.stderr.write(`[torchkd setup] ${msg}\n`);
}

function run(cmd, argv, opts = {}) {
  log(`$ ${cmd} ${argv.join(' ')}`);
  const r = spawnSync(cmd, argv, { stdio: 'inherit', cwd: root, ...opts });
  if (r.status !== 0) {
    process.stderr.write(`[torchkd setup] failed: ${cmd} ${argv.join(' ')}\n`);
    process.exit(r.status || 1);
  }
}

function newestMtime(paths, filter = () => true) {
  let newest = 0;
  const visit = (p) => {
    let st;
    try {
      st = fs.statSync(p);
    } catch {
      return;
    }
    if (st.isDirectory()) {
      for (const e of fs.readdirSync(p)) visit(path.join(p, e));
    } else if (filter(p)) {
      newest = Math.max(newest, st.mtimeMs);
    }
  };
  for (const p of paths) visit(path.join(root, p));
  return newest;
}

function mtime(p) {
  try {
    return fs.statSync(path.join(root, p)).mtimeMs;
  } catch {
    return 0;
  }
}

// ---- 1. libtorch -------------------------------------------------------------------------------------------------

function pipIndexArgs() {
  // Machines of this project's kind configure pip with local wheel stores; using them as the primary index avoids
  // long retries against an unreachable public index. Elsewhere pip's defaults (PyPI) apply.
  const r = spawnSync('python3', ['-m', 'pip', 'config', 'get', 'global.extra-index-url'], { encoding: 'utf8' });
  const urls = r.status === 0 ? r.stdout.trim().split(/\s+/).filter(Boolean) : [];
  if (!urls.length) return [];
  return ['--index-url', urls[0], ...urls.slice(1).flatMap((u) => ['--extra-index-url', u])];
}

function ensureLibtorch() {
  const lib = require('../lib/libtorch.js');
  const info = lib.discover();
  if (info.ok) {
    log(`libtorch: ${lib.describe(info)}`);
    return info;
  }
  if (process.env.TORCHKD_LIBTORCH || process.env.LIBTORCH || process.env.TORCHKD_PYTHON) {
    process.stderr.write(`[torchkd setup] ${lib.describe(info)}; fix the environment variable or unset it.\n`);
    process.exit(1);
  }
  log(`no libtorch found; creating the project venv with torch==${lib.PINNED_TORCH}`);
  const venv = path.join(root, '.venv');
  if (!fs.existsSync(path.join(venv, 'bin', 'python'))) run('python3', ['-m', 'venv', venv]);
  const pip = path.join(venv, 'bin', 'pip');
  const index = pipIndexArgs();
  const wanted = [`torch==${lib.PINNED_TORCH}`, 'numpy'];
  const cpu = spawnSync(pip, ['install', '-q', ...index, `torch==${lib.PINNED_TORCH}+cpu`, 'numpy'], { stdio: 'inherit', cwd: root });
  if (cpu.status !== 0) run(pip, ['install', '-q', ...index, ...wanted]);
  const again = lib.discover({ refresh: true });
  if (!again.ok) {
    process.stderr.write(`[torchkd setup] PyTorch was installed but libtorch is still not found: ${again.reason}\n`);
    process.exit(1);
  }
  log(`libtorch: ${lib.describe(again)}`);
  return again;
}

// ---- 2. dataset --------------------------------------------------------------------------------------------------

function ensureDataset() {
  const dir = '/usr/share/datasets/fashion-mnist';
  if (fs.existsSync(path.join(dir, 'train-images-idx3-ubyte.gz'))) return;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const hasApt = spawnSync('sh', ['-c', 'command -v apt-get'], { encoding: 'utf8' }).status === 0;
  if (isRoot && hasApt) {
    const r = spawnSync('apt-get', ['install', '-y', '-q', 'dataset-fashion-mnist'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    if (r.status !== 0) {
      spawnSync('apt-get', ['update', '-q'], { stdio: 'inherit' });
      spawnSync('apt-get', ['install', '-y', '-q', 'dataset-fashion-mnist'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    }
  }
  if (!fs.existsSync(path.join(dir, 'train-images-idx3-ubyte.gz'))) {
    log('Fashion-MNIST not found: on Debian/Ubuntu run `sudo apt-get install dataset-fashion-mnist`, or pass --data DIR to torchkd train');
  }
}

// ---- 3. npm dependencies -----------------------------------------------------------------------------------------

function ensureNodeModules() {
  const marker = path.join(root, 'node_modules', '.package-lock.json');
  if (fs.existsSync(marker) && fs.statSync(marker).mtimeMs >= mtime('package-lock.json')) return;
  run('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund']);
}

// ---- 4. builds ---------------------------------------------------------------------------------------------------

function nodedirArgs() {
  // Build against the headers of the running Node when they are installed next to it (no header download).
  const prefix = path.dirname(path.dirname(process.execPath));
  return fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h')) ? [`--nodedir=${prefix}`] : [];
}

function ensureNative(info) {
  const record = path.join(root, 'build', 'torchkd-build.json');
  let prev = null;
  try {
    prev = JSON.parse(fs.readFileSync(record, 'utf8'));
  } catch {
    // no previous build
  }
  const binary = path.join(root, 'build', 'Release', 'torchkd.node');
  const sourcesTime = newestMtime(['native', 'binding.gyp', 'scripts/native-sources.json', 'lib/libtorch.js', 'scripts/nvcc.js']);
  const upToDate = prev && fs.existsSync(binary) && prev.flavor === info.flavor && prev.root === info.root &&
    fs.statSync(binary).mtimeMs >= sourcesTime;
  if (upToDate) return;
  const gyp = path.join(root, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  const jobs = String(Math.max(1, require('os').cpus().length));
  // Same libtorch as last time: an incremental `build` (make recompiles what changed). A changed source list,
  // binding.gyp or discovery (which prints the flags) needs gyp's configure step first; its Makefile still rebuilds
  // only the objects whose sources or command lines changed. Another libtorch (or no Makefile yet): a full `rebuild`.
  const makefile = path.join(root, 'build', 'Makefile');
  const sameLibtorch = prev && prev.flavor === info.flavor && prev.root === info.root && fs.existsSync(makefile);
  const configured = sameLibtorch &&
    mtime('build/Makefile') >= Math.max(mtime('binding.gyp'), mtime('scripts/native-sources.json'), mtime('lib/libtorch.js'));
  if (sameLibtorch && !configured) run(process.execPath, [gyp, 'configure', ...nodedirArgs()]);
  run(process.execPath, [gyp, sameLibtorch ? 'build' : 'rebuild', '-j', jobs, ...nodedirArgs()]);
  fs.writeFileSync(record, JSON.stringify({ flavor: info.flavor, libtorch: info.versionString, root: info.root, builtAt: new Date().toISOString() }, null, 2));
}

function ensureTypescript() {
  const out = path.join(root, 'dist', 'index.js');
  // lib/ also holds the plain .js/.py files the package ships as they are: only TypeScript sources count.
  const sources = newestMtime(['lib', 'tsconfig.json', 'tsconfig.build.json', 'scripts/make-esm.js', 'scripts/build-ts.js'], (p) => !(p.startsWith(path.join(root, 'lib') + path.sep) && /\.(js|py)$/.test(p)));
  if (fs.existsSync(out) && mtime('dist/index.js') >= sources) return;
  run(process.execPath, [path.join(root, 'scripts', 'build-ts.js')]);
}

// The CUDA build of PyTorch, for building and loading the CUDA flavour on a machine without a GPU (opt-in: 4.5 GB).
function ensureCudaVenv() {
  const venv = path.join(root, '.venv-cuda');
  if (fs.existsSync(path.join(venv, 'lib')) && spawnSync(path.join(venv, 'bin', 'python'), ['-c', 'import torch'], { stdio: 'ignore' }).status === 0) return;
  const index = pipIndexArgs();
  if (!fs.existsSync(path.join(venv, 'bin', 'python'))) run('python3', ['-m', 'venv', venv]);
  const pip = path.join(venv, 'bin', 'pip');
  // The wheel's Python-only extras (cuda-bindings, triton) are not needed to build against it: install without
  // dependencies, then the plain ones.
  run(pip, ['install', '-q', '--no-deps', ...index, 'torch==2.14.1', 'nvidia-cublas', 'nvidia-cuda-runtime', 'nvidia-cuda-nvrtc',
    'nvidia-cudnn-cu13', 'nvidia-cufft', 'nvidia-curand', 'nvidia-cusolver', 'nvidia-cusparse', 'nvidia-cusparselt-cu13',
    'nvidia-nccl-cu13', 'nvidia-nvjitlink', 'nvidia-nvshmem-cu13', 'nvidia-nvtx', 'nvidia-cuda-cupti', 'nvidia-cufile']);
  run(pip, ['install', '-q', ...index, 'filelock', 'typing-extensions', 'sympy', 'networkx', 'jinja2', 'fsspec', 'numpy']);
}

// Whether pip's local wheel stores (file:// indexes and find-links folders) carry the CUDA torch wheel.
function localCudaWheel() {
  const r = spawnSync('python3', ['-m', 'pip', 'config', 'list'], { encoding: 'utf8' });
  if (r.status !== 0) return false;
  const places = [];
  for (const line of r.stdout.split('\n')) {
    const m = line.match(/^[\w:.]*\.(index-url|extra-index-url|find-links)='(.*)'$/);
    if (m) for (const u of m[2].split(/\s+/).filter(Boolean)) places.push({ kind: m[1], where: u.replace(/^file:\/\//, '') });
  }
  const wanted = (f) => /^torch-2\.14\.1-.*\.whl$/.test(f) && !f.includes('+cpu');
  for (const { kind, where } of places) {
    if (!where.startsWith('/')) continue; // only local stores: never download 4.5 GB implicitly
    try {
      if (kind === 'find-links') {
        if (fs.readdirSync(where).some(wanted)) return true;
      } else {
        const page = fs.readFileSync(path.join(where, 'torch', 'index.html'), 'utf8');
        if ((page.match(/torch-[^"<>\s]+\.whl/g) || []).some((f) => wanted(path.basename(f)))) return true;
      }
    } catch {
      // not there
    }
  }
  return false;
}

const info = ensureLibtorch();
if (args.has('--cuda')) ensureCudaVenv();
else if (args.has('--cuda-if-local')) {
  // Only where the check can run: it also needs nvcc.
  if (!require('../lib/libtorch.js').cudaToolkit()) log('no CUDA toolkit (nvcc): the CUDA-flavour build check (test/09) will be skipped');
  else if (!localCudaWheel()) log('no local CUDA torch wheel: the CUDA-flavour build check (test/09) will be skipped');
  else ensureCudaVenv();
}
if (!args.has('--no-data')) ensureDataset();
ensureNodeModules();
if (args.has('--build')) {
  ensureNative(info);
  ensureTypescript();
}
