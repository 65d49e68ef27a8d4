#!/usr/bin/env node
'use strict';
/**
 * `npm run release:prebuilds`: the prebuilt binaries the published package carries, one per libtorch flavour this
 * machine can make, before `npm pack` / `npm publish`. (Named so that no npm pre-hook runs it implicitly: a script
 * called `prebuild` would run before every `npm run build`.)
 *
 * Flavours: the libtorch discovery finds (lib/libtorch.js: here the project's .venv, CPU), and the CUDA build when
 * .venv-cuda (`npm run setup -- --cuda`) and nvcc are present. Each is built with prebuildify (node-gyp, N-API,
 * stripped, no rpath) in its own staging folder build-release/<flavour>/, so the development build in build/ is left
 * alone, and lands in prebuilds/<platform>-<arch>/torchkd-torch<major.minor>-<cpu|cuNNN>.node, next to the
 * libtorch-free preloader (torchkd_preload.node).
 *
 *   node scripts/release-prebuilds.js             build every flavour (about 8 minutes each on 2 cores)
 *   node scripts/release-prebuilds.js --only cpu  one flavour: cpu, cuda, or default (whatever discovery finds)
 *   node scripts/release-prebuilds.js --check     verify, without building, that prebuilds/ and dist/ hold what a
 *                                                 release needs (`npm publish` runs this: prepublishOnly)
 */
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const argv = process.argv.slice(2);
const check = argv.includes('--check');
const only = argv.includes('--only') ? argv[argv.indexOf('--only') + 1] : null;
const say = (m) => process.stderr.write(`release-prebuilds: ${m}\n`);
const libtorchJs = path.join(root, 'lib', 'libtorch.js');
const { PINNED } = require('../lib/torch-cache.js');
const { cudaToolkit } = require('../lib/libtorch.js');
const platformDir = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`);

/** Discovery under an environment, in a child process (discovery caches its answer per process). */
function discoverWith(env) {
  const r = spawnSync(process.execPath, [libtorchJs, '--json'], { encoding: 'utf8', env: { ...process.env, ...env } });
  try {
    return JSON.parse(r.stdout);
  } catch {
    return { ok: false, reason: r.stderr.trim() || `exit ${r.status}` };
  }
}

/** The flavours this machine can make: [{name, env, info}]. */
function flavours() {
  const out = [];
  const seen = new Set();
  const add = (name, env) => {
    const info = discoverWith(env);
    if (!info.ok) {
      say(`${name}: ${info.reason} (skipped)`);
      return;
    }
    if (seen.has(info.flavor)) return;
    seen.add(info.flavor);
    out.push({ name, env, info });
  };
  const venvCuda = path.join(root, '.venv-cuda', 'bin', 'python');
  if (!only || only === 'default' || only === 'cpu') add('default', {});
  if (!only || only === 'cuda') {
    if (!fs.existsSync(venvCuda)) say('cuda: no .venv-cuda (`npm run setup -- --cuda` installs the CUDA wheel): skipped');
    else if (!cudaToolkit()) say('cuda: no CUDA toolkit (nvcc): skipped');
    else add('cuda', { TORCHKD_PYTHON: venvCuda });
  }
  if (only === 'cpu') return out.filter((f) => !f.info.cuda);
  return out;
}

/** Whether a flavour's libtorch is the version the package pins for it (what the install step provisions). */
function pinned(info) {
  const want = PINNED[info.cuda ? 'cuda' : 'cpu'];
  return { ok: (info.versionString || '').split('+')[0] === want, want };
}

function stage(dir) {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  // Exactly what the package ships (its "files"), so a release build also proves the tarball can build itself.
  for (const entry of manifest.files) {
    const rel = entry.replace(/\/$/, '');
    if (/^(prebuilds|dist|bin|README\.md)$/.test(rel)) continue;
    const src = path.join(root, rel);
    if (fs.existsSync(src)) fs.cpSync(src, path.join(dir, rel), { recursive: true });
  }
  fs.copyFileSync(path.join(root, 'package.json'), path.join(dir, 'package.json'));
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
}

function build(f) {
  const dir = path.join(root, 'build-release', f.info.flavor);
  say(`${f.info.flavor}: libtorch ${f.info.versionString} from ${f.info.source}; building in ${path.relative(root, dir)}`);
  stage(dir);
  // The staging folder has no .venv of its own: name the libtorch discovery found here explicitly.
  const pin = f.info.python ? { TORCHKD_PYTHON: f.info.python } : { TORCHKD_LIBTORCH: f.info.root };
  const env = { ...process.env, ...f.env, ...pin, TORCHKD_NO_RPATH: '1' };
  env.JOBS = env.JOBS || String(Math.max(1, require('os').cpus().length)); // node-gyp's make -j
  const prefix = path.dirname(path.dirname(process.execPath));
  if (!env.npm_config_nodedir && fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) env.npm_config_nodedir = prefix;
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [path.join(root, 'node_modules', 'prebuildify', 'bin.js'), '--napi', '--strip', '--name', `torchkd-${f.info.flavor}`,
    '--node-gyp', path.join(root, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js')], { cwd: dir, stdio: 'inherit', env });
  if (r.status !== 0) {
    say(`${f.info.flavor}: prebuildify failed (exit ${r.status})`);
    return false;
  }
  const made = path.join(dir, 'prebuilds', `${process.platform}-${process.arch}`);
  fs.mkdirSync(platformDir, { recursive: true });
  for (const file of fs.readdirSync(made)) fs.copyFileSync(path.join(made, file), path.join(platformDir, file));
  fs.copyFileSync(path.join(dir, 'build', 'Release', 'torchkd_preload.node'), path.join(platformDir, 'torchkd_preload.node'));
  say(`${f.info.flavor}: done in ${Math.round((Date.now() - t0) / 1000)} s`);
  return true;
}

function checkRelease() {
  const problems = [];
  if (!fs.existsSync(path.join(root, 'dist', 'index.js')) || !fs.existsSync(path.join(root, 'dist', 'esm', 'index.mjs'))) problems.push('dist/ is not built (`npm run build`)');
  const have = fs.existsSync(platformDir) ? fs.readdirSync(platformDir) : [];
  if (!have.includes('torchkd_preload.node')) problems.push(`no ${path.relative(root, platformDir)}/torchkd_preload.node`);
  for (const f of flavours()) {
    if (!have.some((n) => n.startsWith(`torchkd-${f.info.flavor}.`))) problems.push(`no prebuilt binary for ${f.info.flavor} (\`npm run release:prebuilds\`)`);
    const p = pinned(f.info);
    if (!p.ok) problems.push(`${f.info.flavor}: libtorch ${f.info.versionString} is not the pinned ${p.want} (lib/torch-cache.js PINNED) that installs provision`);
  }
  for (const p of problems) say(p);
  if (!problems.length) say(`ok: ${have.join(', ')}`);
  return problems.length === 0;
}

if (check) process.exit(checkRelease() ? 0 : 1);
const list = flavours();
if (!list.length) {
  say('no libtorch found to build against (`npm run setup`)');
  process.exit(1);
}
let ok = true;
for (const f of list) {
  const p = pinned(f.info);
  if (!p.ok) say(`warning: ${f.info.flavor} is built against ${f.info.versionString}, not the pinned ${p.want} that installs provision`);
  ok = build(f) && ok;
}
for (const file of fs.existsSync(platformDir) ? fs.readdirSync(platformDir) : []) process.stdout.write(`${path.relative(root, path.join(platformDir, file))}\n`);
process.exit(ok ? 0 : 1);
