/**
 * The package as a user gets it (heavy project): the tarball carries what the install step, the loader and a source
 * build need; installed into fresh projects on a machine where no libtorch is found (HOME and the caches in a
 * temporary folder, python3 a venv without torch, no TORCHKD_* variables) and no compiler, the install step provisions
 * PyTorch into the per-user cache and tensor code runs with require and import; a second install reuses the cache;
 * TORCHKD_SKIP_DOWNLOAD=1 leaves a load error that names `npx torchkd setup`, which then does the work.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CJS_CHECK, ESM_CHECK, ROOT, freshApp, info, npmInstall, packPackage, runNode, tarList, toolsBin, torchlessVenv, userEnv } from './08-pack-helpers';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { PINNED } = require('../lib/torch-cache.js') as { PINNED: { cpu: string; cuda: string } };
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'torchkd-pack-'));
const FMNIST = '/usr/share/datasets/fashion-mnist';
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('the tarball', () => {
  it('ships the install step, discovery, the parity oracle and everything binding.gyp and the build read', () => {
    const files = new Set(JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' }))[0].files.map((f: { path: string }) => f.path));
    const need = ['package.json', 'binding.gyp', 'CMakeLists.txt', 'scripts/install.js', 'lib/libtorch.js', 'lib/torch-cache.js', 'lib/python/parity.py',
      'lib/python/zoo.py', 'bin/torchkd.js', 'dist/index.js', 'dist/index.d.ts', 'dist/esm/index.mjs', 'dist/cli/setup.js'];
    // Every script binding.gyp and CMakeLists.txt run, and every file they compile (the one source list).
    const gyp = fs.readFileSync(path.join(ROOT, 'binding.gyp'), 'utf8') + fs.readFileSync(path.join(ROOT, 'CMakeLists.txt'), 'utf8');
    const scripts = [...gyp.matchAll(/((?:scripts|lib)\/[\w./-]+?\.js)(?!\w)/g)].map((m) => m[1]);
    expect(scripts).toEqual(expect.arrayContaining(['lib/libtorch.js', 'scripts/native-sources.js', 'scripts/nvcc.js']));
    need.push(...scripts, 'scripts/native-sources.json');
    const sources = JSON.parse(fs.readFileSync(path.join(ROOT, 'scripts', 'native-sources.json'), 'utf8')) as Record<string, string[] | string>;
    for (const list of Object.values(sources)) if (Array.isArray(list)) need.push(...list);
    // Every header the native sources include from native/ (tracked files: what a clean clone has).
    const tracked = execFileSync('git', ['ls-files', 'native'], { cwd: ROOT, encoding: 'utf8' }).split('\n').filter(Boolean);
    need.push(...tracked);
    const missing = [...new Set(need)].filter((f) => !files.has(f));
    expect(missing).toEqual([]);
    // Sources, tests and development tooling stay out.
    const extra = [...files].filter((f) => /^(lib\/.*\.ts|test\/|scripts\/(setup|release-prebuilds|fixtures|codegen|build-ts))/.test(f as string));
    expect(extra).toEqual([]);
  });
});

describe('install where no libtorch is found and no compiler is present', () => {
  let tgz = '';
  let env: NodeJS.ProcessEnv = {};
  const home = path.join(tmp, 'home');
  const xdg = path.join(tmp, 'xdg-cache');
  const entry = path.join(xdg, 'torchkd', `torch-${PINNED.cpu}-cpu`);

  beforeAll(() => {
    tgz = packPackage(tmp, { prebuilt: true });
    const bin = toolsBin(tmp, 'bin');
    const py = torchlessVenv(tmp);
    fs.mkdirSync(home, { recursive: true });
    env = userEnv({ PATH: `${bin}:${py}`, HOME: home, XDG_CACHE_HOME: xdg });
    for (const tool of ['gcc', 'g++', 'cc', 'c++', 'clang++', 'make', 'cmake', 'node-gyp']) {
      expect(execFileSync('sh', ['-c', `command -v ${tool} || echo none`], { env, encoding: 'utf8' }).trim()).toBe('none');
    }
    expect(execFileSync('sh', ['-c', 'command -v python3'], { env, encoding: 'utf8' }).trim()).toBe(path.join(py, 'python3'));
    expect(info.flavor).toBe(`torch${PINNED.cpu.split('.').slice(0, 2).join('.')}-cpu`); // the prebuilt is the pinned CPU flavour
  });

  it('the tarball carries the prebuilt binary and no sources', () => {
    const files = tarList(tgz);
    expect(files).toContain(`prebuilds/${process.platform}-${process.arch}/torchkd-${info.flavor}.node`);
    expect(files).toContain('dist/esm/index.mjs');
    expect(files.filter((f) => /^(lib\/.*\.ts|test\/)/.test(f))).toEqual([]);
  });

  it('with TORCHKD_SKIP_DOWNLOAD=1 the install succeeds and loading names `npx torchkd setup`', () => {
    const app = freshApp(tmp, 'app-optout');
    const r = npmInstall(app, tgz, { ...env, TORCHKD_SKIP_DOWNLOAD: '1' });
    expect(r.status, r.log).toBe(0);
    expect(r.log).toContain('TORCHKD_SKIP_DOWNLOAD=1');
    expect(fs.existsSync(entry)).toBe(false);
    const load = runNode(app, "try { require('torchkd').zeros(1); } catch (e) { console.log(JSON.stringify({ name: e.name, code: e.code, message: e.message })); }", env);
    const err = JSON.parse(load.stdout);
    expect(err).toMatchObject({ name: 'TorchError', code: 'LOAD_FAILED' });
    expect(err.message).toMatch(/fix: +run `npx torchkd setup`/);
    expect(err.message).toContain(path.join(xdg, 'torchkd'));
    expect(err.message).not.toMatch(/dlopen|cannot open shared object/);
  });

  it('the install step provisions PyTorch into the cache, and tensor code runs with require and import', () => {
    const app = freshApp(tmp, 'app-first');
    const r = npmInstall(app, tgz, env);
    expect(r.status, r.log).toBe(0);
    expect(r.log).toContain(`installing PyTorch ${PINNED.cpu} (CPU) into ${entry}`);
    expect(r.log).toMatch(/PyTorch [\d.]+ \(CPU\) into \S+: done \(\d+ MB\)/); // the progress line's last state
    expect(r.log).toContain(`using prebuilt torchkd-${info.flavor}.node`);
    expect(fs.existsSync(path.join(entry, 'site-packages', 'torch', 'lib', 'libtorch.so'))).toBe(true);
    console.log(`first install (PyTorch provisioned): ${r.seconds.toFixed(1)} s`);

    const cjs = runNode(app, CJS_CHECK, env);
    expect(cjs.stderr).toBe('');
    const out = JSON.parse(cjs.stdout);
    expect(out.sum).toBe(54);
    expect(out.libtorch).toBe(`${PINNED.cpu}+cpu`);
    // libtorch came from the cache, not from this checkout's venv (the prebuilt carries no path of this machine).
    expect(out.maps.length).toBe(1);
    expect(out.maps[0].startsWith(entry)).toBe(true);
    const esm = runNode(app, ESM_CHECK, env, true);
    expect(esm.stderr).toBe('');
    expect(esm.stdout.trim()).toBe('true function');
    const doctor = execFileSync('sh', ['-c', 'npx torchkd doctor 2>&1'], { cwd: app, env, encoding: 'utf8' });
    expect(doctor).toContain(`found via the PyTorch cache (${entry})`);
    expect(doctor).toMatch(/check: +tensor\(\[1, 2, 3\]\)\.mul\(2\)\.sum\(\) = 12 ok/);
    // The cache's Python has torch: the parity oracle of `torchkd parity` on such a machine (lib/python/ shipped).
    expect(execFileSync(path.join(entry, 'python'), ['-c', 'import torch, numpy; print(torch.__version__)'], { env, encoding: 'utf8' }).trim()).toBe(`${PINNED.cpu}+cpu`);
    if (fs.existsSync(path.join(FMNIST, 'train-images-idx3-ubyte.gz'))) {
      const parity = execFileSync('sh', ['-c', `npx torchkd parity --steps 3 --data ${FMNIST} 2>&1; echo "exit $?"`], { cwd: app, env, encoding: 'utf8' });
      expect(parity).toMatch(/: PASS\nexit 0\n$/);
    }
  });

  it('a second project reuses the cache: its install takes seconds', () => {
    const app = freshApp(tmp, 'app-second');
    const r = npmInstall(app, tgz, env);
    expect(r.status, r.log).toBe(0);
    expect(r.log).not.toContain('installing PyTorch');
    expect(r.log).toContain(`from the PyTorch cache (${entry})`);
    console.log(`second install (cache reused): ${r.seconds.toFixed(1)} s`);
    expect(r.seconds).toBeLessThan(30);
    expect(JSON.parse(runNode(app, CJS_CHECK, env).stdout).sum).toBe(54);
  });

  it('`npx torchkd setup` after an opted-out install provisions PyTorch on demand (TORCHKD_CACHE_DIR)', () => {
    const app = path.join(tmp, 'app-optout');
    const cacheDir = path.join(tmp, 'cache-dir');
    const envSetup = { ...env, TORCHKD_CACHE_DIR: cacheDir };
    const before = runNode(app, "try { require('torchkd').zeros(1); console.log('loaded') } catch (e) { console.log(e.code) }", envSetup);
    expect(before.stdout.trim()).toBe('LOAD_FAILED');
    const r = execFileSync('sh', ['-c', 'npx torchkd setup 2>&1; echo "exit $?"'], { cwd: app, env: envSetup, encoding: 'utf8' });
    expect(r).toContain(`installing PyTorch ${PINNED.cpu} (CPU) into ${path.join(cacheDir, `torch-${PINNED.cpu}-cpu`)}`);
    expect(r).toContain(`using prebuilt torchkd-${info.flavor}.node`);
    expect(r.trim().split('\n').pop()).toBe('exit 0');
    const out = JSON.parse(runNode(app, CJS_CHECK, envSetup).stdout);
    expect(out.sum).toBe(54);
    expect(out.maps[0].startsWith(cacheDir)).toBe(true);
    // Run again: nothing to do.
    const again = execFileSync('sh', ['-c', 'npx torchkd setup 2>&1'], { cwd: app, env: envSetup, encoding: 'utf8' });
    expect(again).toContain('libtorch: libtorch');
    expect(again).not.toContain('installing PyTorch');
  });
});
