#!/usr/bin/env node
'use strict';
/**
 * The package's npm "install" hook, and `npx torchkd setup` (with --setup): brings what torchkd needs to load.
 *
 *   1. libtorch: when discovery (lib/libtorch.js) finds none, installs the pinned PyTorch into the per-user cache
 *      (lib/torch-cache.js; CPU, or the CUDA build when an NVIDIA driver is present) through pip as the machine
 *      configures it, with a progress line. TORCHKD_SKIP_DOWNLOAD=1 skips this at install time.
 *   2. the binary: a prebuilt one when it matches the libtorch found (prebuilds/<platform>-<arch>/), otherwise a
 *      source build with node-gyp when a C++ compiler and make are there. A failed build's cause is printed and kept
 *      (build/torchkd-build-failure.json, full log in build/torchkd-build.log) for the loader's error and doctor.
 *
 * As an install hook it never fails the install: whatever is missing, `require('torchkd')` then raises one error that
 * says what was found and names the command to run (`npx torchkd setup`). In a torchkd source checkout the hook does
 * nothing (scripts/setup.js builds there) and --setup only fills the cache.
 *
 * Flags (with --setup): --cpu / --cuda (the flavour to install; default: the machine's), --force (reinstall the
 * cache entry, rebuild from source even when a binary is there).
 */
const { spawn, spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.resolve(__dirname, '..');
const args = new Set(process.argv.slice(2));
const setupMode = args.has('--setup');
const force = args.has('--force');
const checkout = fs.existsSync(path.join(root, 'lib', 'index.ts'));
if (checkout && !setupMode) process.exit(0);

const lib = require('../lib/libtorch.js');
const cache = require('../lib/torch-cache.js');
const say = (m) => process.stderr.write(`torchkd: ${m}\n`);
// The install hook always exits 0; `torchkd setup` reports failure with its exit code.
const done = (ok) => process.exit(setupMode && !ok ? 1 : 0);
const SETUP = '`npx torchkd setup`';

function onPath(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

async function ensureLibtorch() {
  let info = lib.discover();
  const flavour = args.has('--cuda') ? 'cuda' : args.has('--cpu') ? 'cpu' : cache.machineFlavour().flavour;
  const wantCache = setupMode && (force || args.has('--cuda') || args.has('--cpu'));
  if (info.ok && !wantCache) {
    say(`libtorch: ${lib.describe(info)}`);
    return info;
  }
  if (!info.ok && ['TORCHKD_LIBTORCH', 'LIBTORCH', 'TORCHKD_PYTHON'].includes(info.source)) {
    say(`${lib.describe(info)}: ${info.fix[0]}`);
    return null;
  }
  if (!setupMode && process.env.TORCHKD_SKIP_DOWNLOAD === '1') {
    say(`no libtorch found and TORCHKD_SKIP_DOWNLOAD=1: PyTorch not installed. torchkd will not load until ${SETUP} is run`);
    say(`(or TORCHKD_PYTHON / TORCHKD_LIBTORCH points at a PyTorch)`);
    return null;
  }
  if (!info.ok) say(`no libtorch found (${info.reason}); installing PyTorch ${cache.PINNED[flavour]} (${cache.machineFlavour().why})`);
  const r = await cache.provision({ flavour, force });
  if (!r.ok) {
    say(`could not install PyTorch into ${r.dir ?? cache.cacheRoot()}: ${r.reason}`);
    say(`torchkd will not load until a libtorch is found: run ${SETUP} when this is fixed (online, or with pip configured),`);
    say('or point TORCHKD_PYTHON at a Python that has torch');
    return null;
  }
  if (r.reused) say(`PyTorch ${cache.PINNED[flavour]} is already in the cache (${r.dir})`);
  info = lib.discover({ refresh: true });
  if (!info.ok) {
    say(`PyTorch was installed into ${r.dir} but libtorch is still not found: ${info.reason}`);
    return null;
  }
  say(`libtorch: ${lib.describe(info)}`);
  return info;
}

/** The prebuilt binaries that fit the libtorch found (its flavour; with a CUDA libtorch also the CPU flavour). */
function prebuiltFor(info) {
  const dir = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`);
  const flavors = [info.flavor, ...(info.cuda ? [info.flavor.replace(/-cu\d+$/, '-cpu')] : [])];
  if (!fs.existsSync(dir)) return null;
  return fs.readdirSync(dir).find((f) => flavors.some((fl) => f.startsWith(`torchkd-${fl}.`))) || null;
}

/**
 * The lines of a build log that say why it failed: compiler and linker errors, missing tools and headers, gyp's own
 * error; when none of those is there, the lines just before make or gyp gave up. Then gyp's one-line summary.
 */
function causeOf(log) {
  const lines = log.split('\n').map((l) => l.trimEnd()).filter(Boolean);
  const noise = (l) => /^gyp (ERR|info|http|WARN)!|^make(\[\d+\])?: (\*\*\*|Entering|Leaving)|^npm (ERR|error|warn)|^\$ /.test(l);
  const specific = lines.filter((l) => !noise(l) &&
    /\b(fatal )?error\b[:\s]|undefined reference|cannot find -l|No such file or directory|not found|command not found|^gyp: /i.test(l));
  let picked = specific.slice(0, 6);
  if (!picked.length) {
    const stop = lines.findIndex((l) => /^make(\[\d+\])?: \*\*\*|^gyp ERR!/.test(l));
    picked = lines.slice(0, stop < 0 ? lines.length : stop).filter((l) => !noise(l)).slice(-4);
  }
  const summary = lines.find((l) => /^gyp ERR! stack Error:/.test(l));
  if (summary) picked.push(`(${summary.replace(/^gyp ERR! stack /, 'node-gyp: ')})`);
  return picked.map((l) => l.slice(0, 400)).join('\n');
}

function nodedirArgs() {
  if (process.env.npm_config_nodedir) return [`--nodedir=${process.env.npm_config_nodedir}`];
  const prefix = path.dirname(path.dirname(process.execPath));
  return fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h')) ? [`--nodedir=${prefix}`] : [];
}

function nodeGyp() {
  const fromNpm = process.env.npm_config_node_gyp;
  if (fromNpm && fs.existsSync(fromNpm)) return [process.execPath, fromNpm];
  try {
    return [process.execPath, require.resolve('node-gyp/bin/node-gyp.js', { paths: [root] })];
  } catch {
    // not a dependency here
  }
  // npm ships node-gyp next to itself.
  const npmGyp = path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  if (fs.existsSync(npmGyp)) return [process.execPath, npmGyp];
  return onPath('node-gyp') ? ['node-gyp'] : null;
}

function recordFailure(info, cause, log) {
  const build = path.join(root, 'build');
  fs.mkdirSync(build, { recursive: true });
  let logFile = null;
  if (log) {
    logFile = path.join(build, 'torchkd-build.log');
    fs.writeFileSync(logFile, log);
  }
  fs.writeFileSync(path.join(build, 'torchkd-build-failure.json'), JSON.stringify({ flavor: info.flavor, libtorch: info.versionString, cause, log: logFile }, null, 2));
  say(`the source build failed: ${cause.split('\n').join('\n    ')}`);
  if (logFile) say(`full log: ${logFile}`);
  say(`torchkd will not load until it is built: fix the cause and run ${SETUP}, or install a PyTorch that a prebuilt binary`);
  say('was made for (`npx torchkd doctor` shows what was found).');
}

function sourceBuild(info) {
  return new Promise((resolve) => {
    const missing = [];
    if (!['c++', 'g++', 'clang++'].some(onPath)) missing.push('a C++20 compiler (g++ or clang++)');
    if (!onPath('make')) missing.push('make');
    if (!onPath('python3') && !onPath('python')) missing.push('python3 (node-gyp runs gyp with it)');
    const gyp = nodeGyp();
    if (!gyp) missing.push('node-gyp');
    if (missing.length) {
      recordFailure(info, `no prebuilt binary for ${info.flavor} on ${process.platform}-${process.arch}, and the source build needs ${missing.join(', ')}`, null);
      return resolve(false);
    }
    const jobs = process.env.TORCHKD_BUILD_JOBS || String(Math.max(1, os.cpus().length));
    say(`no prebuilt binary for ${info.flavor}; building from source against ${lib.describe(info)} (node-gyp -j ${jobs}; several minutes)`);
    fs.rmSync(path.join(root, 'build', 'torchkd-build-failure.json'), { force: true });
    const argv = [...gyp.slice(1), 'rebuild', '-j', jobs, ...nodedirArgs()];
    const child = spawn(gyp[0], argv, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TORCHKD_NO_RPATH: '' } });
    let log = `$ ${gyp.join(' ')} ${argv.slice(gyp.length - 1).join(' ')}\n`;
    const tee = (chunk) => {
      log += chunk.toString('utf8');
      process.stderr.write(chunk);
    };
    child.stdout.on('data', tee);
    child.stderr.on('data', tee);
    child.on('error', (e) => {
      recordFailure(info, `could not start node-gyp: ${e.message}`, log);
      resolve(false);
    });
    child.on('close', (code) => {
      if (code === 0 && fs.existsSync(path.join(root, 'build', 'Release', 'torchkd.node'))) {
        fs.writeFileSync(path.join(root, 'build', 'torchkd-build.json'), JSON.stringify({ flavor: info.flavor, libtorch: info.versionString, root: info.root }, null, 2));
        fs.writeFileSync(path.join(root, 'build', 'torchkd-build.log'), log);
        say(`built from source for ${info.flavor}`);
        return resolve(true);
      }
      recordFailure(info, causeOf(log) || `node-gyp exited with ${code}`, log);
      resolve(false);
    });
  });
}

async function main() {
  const info = await ensureLibtorch();
  if (!info) return done(false);
  if (checkout) return done(true); // a checkout builds with `npm run build`
  const record = (() => {
    try {
      return JSON.parse(fs.readFileSync(path.join(root, 'build', 'torchkd-build.json'), 'utf8'));
    } catch {
      return null;
    }
  })();
  if (!force && record && record.flavor === info.flavor && fs.existsSync(path.join(root, 'build', 'Release', 'torchkd.node'))) {
    say(`using the source build for ${info.flavor}`);
    return done(true);
  }
  const prebuilt = prebuiltFor(info);
  if (prebuilt && !force) {
    say(`using prebuilt ${prebuilt} for ${lib.describe(info)}`);
    return done(true);
  }
  done(await sourceBuild(info));
}

main().catch((e) => {
  say(`set-up failed unexpectedly: ${e.stack || e.message}`);
  done(false);
});
