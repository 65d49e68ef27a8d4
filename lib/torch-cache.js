'use strict';
/**
 * The per-user PyTorch cache: one pip-installed PyTorch per version and flavour, shared by every project on the
 * machine, that the install step (scripts/install.js) and `npx torchkd setup` fill when no libtorch is found, as
 * other packages fetch a large runtime at install. Discovery (lib/libtorch.js) looks here after an explicit
 * environment variable and a Python's torch, before system packages.
 *
 *   $TORCHKD_CACHE_DIR, else $XDG_CACHE_HOME/torchkd, else ~/.cache/torchkd
 *     torch-2.13.0-cpu/            one entry (`pip install --target`, so no venv module is needed)
 *       site-packages/torch/       the wheel's torch package: include/, lib/libtorch.so, version.py
 *       python                     a Python with this torch (the interpreter pip ran on + PYTHONPATH), for parity
 *       torchkd-cache.json         what was installed, from where, with which command
 *
 * The flavour is `cuda` when an NVIDIA driver is present (or TORCHKD_TORCH_FLAVOR=cuda), else `cpu`. Installs go
 * through pip as the machine configures it (its local wheel stores where it has them, PyPI otherwise), into a
 * temporary folder renamed into place when complete, under a lock so two installs never fill one entry at once.
 * Plain JavaScript with no dependencies: it runs at install time, before anything else of the package works.
 */
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn, spawnSync } = require('child_process');

/**
 * The PyTorch each flavour installs: the versions the shipped prebuilt binaries are made for (the CPU one against the
 * project's .venv, the CUDA one against .venv-cuda; scripts/release-prebuilds.js checks that they agree).
 */
const PINNED = { cpu: '2.13.0', cuda: '2.14.1' };

/** The CUDA wheel's runtime libraries, for the fallback install without dependency resolution (see below). */
const CUDA_WHEELS = ['nvidia-cublas', 'nvidia-cuda-runtime', 'nvidia-cuda-nvrtc', 'nvidia-cudnn-cu13', 'nvidia-cufft',
  'nvidia-curand', 'nvidia-cusolver', 'nvidia-cusparse', 'nvidia-cusparselt-cu13', 'nvidia-nccl-cu13', 'nvidia-nvjitlink',
  'nvidia-nvshmem-cu13', 'nvidia-nvtx', 'nvidia-cuda-cupti', 'nvidia-cufile'];
const PLAIN_DEPS = ['filelock', 'typing-extensions', 'sympy', 'networkx', 'jinja2', 'fsspec', 'numpy'];

/** Where CPU wheels live when pip's index is PyPI (PyPI's Linux torch is the CUDA build). */
const CPU_INDEX = 'https://download.pytorch.org/whl/cpu';

function exists(p) {
  try {
    fs.accessSync(p);
    return true;
  } catch {
    return false;
  }
}

/** The cache folder (not created here). */
function cacheRoot(env = process.env) {
  if (env.TORCHKD_CACHE_DIR) return path.resolve(env.TORCHKD_CACHE_DIR);
  const base = env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : path.join(env.HOME || os.homedir(), '.cache');
  return path.join(base, 'torchkd');
}

/** Whether an NVIDIA driver is installed (a kernel driver, or WSL 2's GPU driver), judged without loading CUDA. */
function nvidiaDriver(fsRoot = '/') {
  if (exists(path.join(fsRoot, 'proc', 'driver', 'nvidia', 'version'))) return { present: true, why: 'NVIDIA kernel driver (/proc/driver/nvidia)' };
  try {
    if (exists(path.join(fsRoot, 'dev', 'dxg')) && fs.readdirSync(path.join(fsRoot, 'usr', 'lib', 'wsl', 'lib')).some((f) => f.startsWith('libcuda.so'))) {
      return { present: true, why: 'WSL 2 GPU driver (/usr/lib/wsl/lib/libcuda.so)' };
    }
  } catch {
    // no WSL driver
  }
  return { present: false, why: 'no NVIDIA driver' };
}

/** The flavour to install on this machine: TORCHKD_TORCH_FLAVOR, else `cuda` with an NVIDIA driver, else `cpu`. */
function machineFlavour(env = process.env) {
  const forced = env.TORCHKD_TORCH_FLAVOR;
  if (forced === 'cpu' || forced === 'cuda') return { flavour: forced, why: `TORCHKD_TORCH_FLAVOR=${forced}` };
  const d = nvidiaDriver();
  return d.present ? { flavour: 'cuda', why: d.why } : { flavour: 'cpu', why: d.why };
}

function entryName(flavour, version = PINNED[flavour]) {
  return `torch-${version}-${flavour}`;
}

/**
 * The complete entries in the cache, best first for this machine: the pinned version of the machine's flavour, then
 * the other flavour's, then anything else (newest name first). Each is `{dir, torchDir, python, flavour, version}`.
 */
function cachedEntries(env = process.env) {
  const root = cacheRoot(env);
  let names = [];
  try {
    names = fs.readdirSync(root);
  } catch {
    return [];
  }
  const { flavour } = machineFlavour(env);
  const order = [entryName(flavour), entryName(flavour === 'cpu' ? 'cuda' : 'cpu')];
  const out = [];
  for (const name of names) {
    const m = /^torch-(\d+\.\d+\.\d+)-(cpu|cuda)$/.exec(name);
    if (!m) continue;
    const dir = path.join(root, name);
    const torchDir = path.join(dir, 'site-packages', 'torch');
    if (!exists(path.join(torchDir, 'lib', 'libtorch.so')) && !exists(path.join(torchDir, 'lib', 'libtorch.dylib'))) continue;
    const python = path.join(dir, 'python');
    out.push({ dir, torchDir, python: exists(python) ? python : null, version: m[1], flavour: m[2] });
  }
  const rank = (e) => {
    const i = order.indexOf(path.basename(e.dir));
    return i < 0 ? order.length : i;
  };
  return out.sort((a, b) => rank(a) - rank(b) || path.basename(b.dir).localeCompare(path.basename(a.dir)));
}

/**
 * A Python that can run pip: TORCHKD_SETUP_PYTHON, else python3, else python on PATH; when that Python is a venv
 * created without pip, its base interpreter's pip. (`pip install --target` needs no venv.) The wheels pip picks fit
 * that interpreter, which the cache entry's `python` wrapper then runs.
 */
function pipPython(env = process.env) {
  const candidates = [env.TORCHKD_SETUP_PYTHON, 'python3', 'python'].filter(Boolean);
  const problems = [];
  const BASE = 'import sys, os; print(os.path.realpath(getattr(sys, "_base_executable", None) or sys.executable))';
  const run = (py, code) => spawnSync(py, ['-c', code], { encoding: 'utf8', env, timeout: 30000 });
  for (const py of candidates) {
    const r = run(py, `${BASE}; import pip`);
    if (r.error) {
      problems.push(`${py}: not found`);
      continue;
    }
    if (r.status === 0) return { ok: true, python: py, base: r.stdout.trim() };
    const base = run(py, BASE);
    const b = base.status === 0 ? base.stdout.trim() : null;
    if (b && run(b, 'import pip').status === 0) return { ok: true, python: b, base: b };
    problems.push(`${py}: ${/No module named .?pip/.test(r.stderr) ? 'has no pip' : 'could not be run'}`);
  }
  return { ok: false, reason: `no Python with pip (${problems.join('; ')}): install python3 and pip (Debian: apt-get install python3-pip)` };
}

/** pip's configuration as `pip config list` prints it: {key: [values]} with keys like index-url, extra-index-url. */
function pipConfig(python, env) {
  const r = spawnSync(python, ['-m', 'pip', 'config', 'list'], { encoding: 'utf8', env, timeout: 30000 });
  const out = {};
  if (r.status !== 0) return out;
  for (const line of r.stdout.split('\n')) {
    const m = /^[\w:.-]*\.([\w-]+)='(.*)'$/.exec(line.trim());
    if (m) out[m[1]] = [...(out[m[1]] || []), ...m[2].split(/\s+/).filter(Boolean)];
  }
  return out;
}

const isLocal = (u) => u.startsWith('file:') || u.startsWith('/') || u.startsWith('.');

/**
 * Index arguments for pip. pip's own configuration always applies; two additions:
 *  - when the machine configures only local wheel stores (file:// extra indexes, no index-url), the first store
 *    becomes the index, so pip does not wait on an unreachable public index before finding the wheel;
 *  - for the CPU flavour with the public index, PyTorch's CPU wheel index (PyPI's Linux torch is the CUDA build),
 *    or TORCHKD_TORCH_INDEX_URL when set.
 */
function pipIndexArgs(config, flavour, env = process.env) {
  const index = [...(config['index-url'] || []), ...(env.PIP_INDEX_URL ? [env.PIP_INDEX_URL] : [])];
  const extra = config['extra-index-url'] || [];
  const args = [];
  let publicIndex = true;
  if (index.length) publicIndex = false;
  else if (extra.length && extra.every(isLocal)) {
    args.push('--index-url', extra[0], ...extra.slice(1).flatMap((u) => ['--extra-index-url', u]));
    publicIndex = false;
  }
  if (env.TORCHKD_TORCH_INDEX_URL) args.push('--extra-index-url', env.TORCHKD_TORCH_INDEX_URL);
  else if (flavour === 'cpu' && publicIndex) args.push('--extra-index-url', CPU_INDEX);
  return args;
}

/**
 * The pip installs to try, in order, for a flavour: each an argument list after `pip install`. CPU: the +cpu build,
 * then the plain version (platforms whose default wheel is the CPU build). CUDA: the plain version with its
 * dependencies; then without dependency resolution plus the runtime wheels by name, for wheel stores that lack the
 * CUDA wheel's Python-only extras.
 */
function pipAttempts(flavour, version = PINNED[flavour]) {
  if (flavour === 'cpu') return [[`torch==${version}+cpu`, 'numpy'], [`torch==${version}`, 'numpy']];
  return [[`torch==${version}`, 'numpy'], ['--no-deps', `torch==${version}`, ...CUDA_WHEELS], PLAIN_DEPS];
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function pidAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

/** Take the entry's lock; waits (up to 30 minutes) while another live process holds it. */
async function lock(file, say) {
  const deadline = Date.now() + 30 * 60 * 1000;
  let told = false;
  for (;;) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
      return () => fs.rmSync(file, { force: true });
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
    }
    const pid = Number(fs.readFileSync(file, 'utf8')) || 0;
    if (!pid || !pidAlive(pid)) {
      fs.rmSync(file, { force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`another install (pid ${pid}) has held ${file} for 30 minutes`);
    if (!told) say(`waiting for another torchkd install (pid ${pid}) that is filling the same cache entry`);
    told = true;
    await sleep(2000);
  }
}

function du(dir) {
  let total = 0;
  const visit = (p) => {
    let st;
    try {
      st = fs.lstatSync(p);
    } catch {
      return;
    }
    if (st.isDirectory()) for (const e of fs.readdirSync(p)) visit(path.join(p, e));
    else total += st.size;
  };
  visit(dir);
  return total;
}

/** Run one pip install, condensing its output into one progress line; resolves to {ok, cause, tail}. */
function runPip(python, argv, env, progress) {
  return new Promise((resolve) => {
    const child = spawn(python, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const tail = [];
    let buffered = '';
    const onData = (chunk) => {
      buffered += chunk.toString('utf8');
      const lines = buffered.split(/\r?\n|\r/);
      buffered = lines.pop();
      for (const raw of lines) {
        const line = raw.trim();
        if (!line) continue;
        tail.push(line);
        if (tail.length > 60) tail.shift();
        let m;
        if ((m = /^Collecting (\S+)/.exec(line))) progress(`resolving ${m[1]}`);
        else if ((m = /^Downloading (\S+?)(?: \(([^)]+)\))?$/.exec(line))) progress(`downloading ${path.basename(m[1])}${m[2] ? ` (${m[2]})` : ''}`);
        else if ((m = /^Processing (\S+)/.exec(line))) progress(`unpacking ${path.basename(m[1])}`);
        else if (/^Installing collected packages/.test(line)) progress('installing');
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (e) => resolve({ ok: false, cause: e.message, tail }));
    child.on('close', (code) => {
      if (buffered.trim()) tail.push(buffered.trim());
      if (code === 0) return resolve({ ok: true, tail });
      const errors = tail.filter((l) => /^ERROR:/.test(l));
      const other = tail.filter((l) => !/^WARNING: Retrying/.test(l) && /error|No matching distribution|Could not find|No space/i.test(l));
      const net = tail.map((l) => /^WARNING: Retrying .*?(\[Errno [^\]]+\] [^')"]+|Read timed out|ConnectTimeout\w*)/.exec(l)).find(Boolean);
      const picked = (errors.length ? errors : other.length ? other : tail.slice(-3)).slice(0, 3);
      if (net) picked.push(`(an index was unreachable: ${net[1]})`);
      resolve({ ok: false, cause: picked.join(' / ') || `pip exited with ${code}`, tail });
    });
  });
}

function writeWrapper(dir, base) {
  const q = (s) => `'${s.replace(/'/g, `'\\''`)}'`;
  const text = [
    '#!/bin/sh',
    '# A Python with this cache entry\'s PyTorch (written by torchkd\'s set-up): the interpreter pip ran on, with',
    '# site-packages/ first on its path.',
    'here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)',
    `PYTHONPATH="$here/site-packages\${PYTHONPATH:+:$PYTHONPATH}" exec ${q(base)} "$@"`,
    '',
  ].join('\n');
  fs.writeFileSync(path.join(dir, 'python'), text, { mode: 0o755 });
}

/**
 * Install the pinned PyTorch of a flavour into the cache (nothing to do when the entry is complete, unless `force`).
 * `log(line)` gets whole lines; the progress line goes to `progressStream` (stderr), rewritten in place on a
 * terminal and printed every 15 s otherwise. Resolves to `{ok, dir, reused?, seconds, reason?}`; never throws.
 */
async function provision({ flavour = machineFlavour().flavour, force = false, env = process.env, log = (l) => process.stderr.write(`torchkd: ${l}\n`), progressStream = process.stderr } = {}) {
  const started = Date.now();
  const version = PINNED[flavour];
  if (!version) return { ok: false, reason: `unknown flavour ${flavour} (cpu or cuda)` };
  const root = cacheRoot(env);
  const dir = path.join(root, entryName(flavour, version));
  const complete = () => exists(path.join(dir, 'site-packages', 'torch', 'lib', 'libtorch.so')) && exists(path.join(dir, 'torchkd-cache.json'));
  if (complete() && !force) return { ok: true, dir, reused: true, seconds: 0 };
  try {
    fs.mkdirSync(root, { recursive: true });
  } catch (e) {
    return { ok: false, dir, reason: `cannot create the cache folder ${root}: ${e.message}` };
  }
  const py = pipPython(env);
  if (!py.ok) return { ok: false, dir, reason: py.reason };
  let release;
  try {
    release = await lock(`${dir}.lock`, log);
  } catch (e) {
    return { ok: false, dir, reason: e.message };
  }
  const partial = `${dir}.partial-${process.pid}`;
  const tty = !!progressStream.isTTY;
  let state = 'starting pip';
  let lastPrinted = 0;
  const label = `PyTorch ${version} (${flavour === 'cpu' ? 'CPU' : 'CUDA'}) into ${dir}`;
  const show = (final = false) => {
    const secs = Math.round((Date.now() - started) / 1000);
    const line = `torchkd: ${label}: ${state}, ${secs} s`;
    if (tty) progressStream.write(`\r\x1b[K${line}${final ? '\n' : ''}`);
    else if (final || Date.now() - lastPrinted >= 15000) {
      progressStream.write(`${line}\n`);
      lastPrinted = Date.now();
    }
  };
  const progress = (s) => {
    state = s;
    show();
  };
  const ticker = setInterval(() => show(), tty ? 1000 : 15000);
  try {
    if (complete() && !force) return { ok: true, dir, reused: true, seconds: (Date.now() - started) / 1000 }; // another install finished it
    log(`installing ${label} (once for all projects; TORCHKD_SKIP_DOWNLOAD=1 skips this)`);
    show();
    const config = pipConfig(py.python, env);
    const index = pipIndexArgs(config, flavour, env);
    const common = ['-m', 'pip', 'install', '--target', path.join(partial, 'site-packages'), '--no-cache-dir', '--no-warn-script-location',
      '--disable-pip-version-check', '--no-input', '--progress-bar', 'off', ...index];
    const attempts = pipAttempts(flavour, version);
    const failures = [];
    let used = null;
    for (let i = 0; i < attempts.length; i++) {
      // The CUDA fallback is two installs (no-deps torch + runtime wheels, then the plain dependencies).
      const cudaFallback = flavour === 'cuda' && i === 1;
      fs.rmSync(partial, { recursive: true, force: true });
      const steps = cudaFallback ? [attempts[1], attempts[2]] : [attempts[i]];
      let ok = true;
      for (const step of steps) {
        const r = await runPip(py.python, [...common, ...(cudaFallback && step === attempts[2] ? ['--upgrade'] : []), ...step], env, progress);
        if (!r.ok) {
          failures.push(`pip install ${step.join(' ')}: ${r.cause}`);
          ok = false;
          break;
        }
      }
      if (ok) {
        used = steps.map((s) => `pip install ${[...index, ...s].join(' ')}`);
        break;
      }
      if (cudaFallback) break;
    }
    if (!used) {
      state = 'failed';
      show(true);
      fs.rmSync(partial, { recursive: true, force: true });
      return { ok: false, dir, reason: failures.join('; '), seconds: (Date.now() - started) / 1000 };
    }
    if (!exists(path.join(partial, 'site-packages', 'torch', 'lib', 'libtorch.so'))) {
      fs.rmSync(partial, { recursive: true, force: true });
      return { ok: false, dir, reason: 'pip succeeded but the installed torch has no lib/libtorch.so (not a Linux wheel?)' };
    }
    writeWrapper(partial, py.base);
    fs.writeFileSync(path.join(partial, 'torchkd-cache.json'), JSON.stringify({ flavour, version, python: py.base, commands: used, installedAt: new Date().toISOString() }, null, 2));
    if (exists(dir)) fs.renameSync(dir, `${dir}.old-${process.pid}`);
    fs.renameSync(partial, dir);
    fs.rmSync(`${dir}.old-${process.pid}`, { recursive: true, force: true });
    state = `done (${(du(dir) / 2 ** 20).toFixed(0)} MB)`;
    show(true);
    return { ok: true, dir, seconds: (Date.now() - started) / 1000 };
  } catch (e) {
    fs.rmSync(partial, { recursive: true, force: true });
    return { ok: false, dir, reason: e.message, seconds: (Date.now() - started) / 1000 };
  } finally {
    clearInterval(ticker);
    release();
  }
}

module.exports = { PINNED, CPU_INDEX, cacheRoot, nvidiaDriver, machineFlavour, entryName, cachedEntries, pipPython, pipConfig, pipIndexArgs, pipAttempts, provision };
