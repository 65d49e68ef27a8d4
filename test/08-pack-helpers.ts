/**
 * Helpers of the heavy pack/install tests (test/08-*.test.ts): a package staged as `npm pack` sees it after
 * `npm run release:prebuilds`, packed into a tarball; fresh projects; and environments that model a user's machine
 * (a PATH without compilers, a torch-less python3, HOME and the caches in a temporary folder).
 */
import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '..');

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const info = require('../lib/libtorch.js').discover() as { ok: boolean; flavor: string; versionString: string; python: string | null; root: string };

/** The package's files as its manifest lists them, plus package.json, copied into `dir` (prebuilds/ left out). */
function stageFiles(dir: string): void {
  const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { files: string[] };
  for (const entry of [...manifest.files, 'package.json']) {
    const rel = entry.replace(/\/$/, '');
    const src = path.join(ROOT, rel);
    if (fs.existsSync(src) && !rel.startsWith('prebuilds')) fs.cpSync(src, path.join(dir, rel), { recursive: true });
  }
}

/**
 * Stage and pack the package into `tmp`; returns the tarball's path. With `prebuilt`, the CPU binary of this
 * checkout's source build goes into prebuilds/ under its flavour's name, as the release script (prebuildify) names it (the same
 * node-gyp build prebuildify runs); without, the tarball has no binary at all and the install must build one.
 */
export function packPackage(tmp: string, { prebuilt }: { prebuilt: boolean }): string {
  const pkg = path.join(tmp, prebuilt ? 'pkg-prebuilt' : 'pkg-source');
  fs.mkdirSync(pkg, { recursive: true });
  stageFiles(pkg);
  if (prebuilt) {
    const pre = path.join(pkg, 'prebuilds', `${process.platform}-${process.arch}`);
    fs.mkdirSync(pre, { recursive: true });
    fs.copyFileSync(path.join(ROOT, 'build', 'Release', 'torchkd.node'), path.join(pre, `torchkd-${info.flavor}.node`));
    fs.copyFileSync(path.join(ROOT, 'build', 'Release', 'torchkd_preload.node'), path.join(pre, 'torchkd_preload.node'));
  }
  const out = path.join(tmp, prebuilt ? 'tgz-prebuilt' : 'tgz-source');
  fs.mkdirSync(out, { recursive: true });
  const name = execFileSync('npm', ['pack', '--silent', '--ignore-scripts', '--pack-destination', out], { cwd: pkg, encoding: 'utf8' }).trim().split('\n').pop() as string;
  return path.join(out, name);
}

/** The tarball's file list (paths inside `package/`). */
export function tarList(tgz: string): string[] {
  return execFileSync('tar', ['-tzf', tgz], { encoding: 'utf8' }).split('\n').filter(Boolean).map((f) => f.replace(/^package\//, ''));
}

/** The executable file `cmd` on this process's PATH (not a shell builtin). */
function which(cmd: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const p = path.join(dir, cmd);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch {
      // not here
    }
  }
  return null;
}

/**
 * A bin folder with node, npm, npx and the shell tools npm scripts use, and none of: C/C++ compilers, make, cmake,
 * node-gyp, python. `extra` adds scripts by name (a fake compiler, say).
 */
export function toolsBin(tmp: string, name: string, extra: Record<string, string> = {}): string {
  const bin = path.join(tmp, name);
  fs.mkdirSync(bin, { recursive: true });
  const tools = ['sh', 'bash', 'env', 'cat', 'ls', 'mkdir', 'rm', 'cp', 'mv', 'chmod', 'uname', 'sed', 'grep', 'tar', 'gzip', 'dirname', 'basename', 'readlink', 'head', 'tail', 'sort', 'tr', 'touch', 'ln', 'rmdir', 'expr', 'printf', 'test', 'true', 'false'];
  for (const t of tools) {
    const p = which(t);
    if (p && !fs.existsSync(path.join(bin, t))) fs.symlinkSync(p, path.join(bin, t));
  }
  fs.symlinkSync(process.execPath, path.join(bin, 'node'));
  const npmDir = path.dirname(fs.realpathSync(which('npm') as string));
  for (const [cmd, cli] of [['npm', 'npm-cli.js'], ['npx', 'npx-cli.js']]) {
    fs.writeFileSync(path.join(bin, cmd), `#!/bin/sh\nexec "${process.execPath}" "${path.join(npmDir, cli)}" "$@"\n`, { mode: 0o755 });
  }
  for (const [cmd, text] of Object.entries(extra)) fs.writeFileSync(path.join(bin, cmd), text, { mode: 0o755 });
  return bin;
}

/** A venv without torch (its python3 and pip), from the interpreter behind python3. */
export function torchlessVenv(tmp: string): string {
  const base = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();
  const venv = path.join(tmp, 'pyvenv');
  execFileSync(base, ['-m', 'venv', venv]);
  const r = spawnSync(path.join(venv, 'bin', 'python3'), ['-c', 'import torch'], { encoding: 'utf8' });
  if (r.status === 0) throw new Error('the fresh venv has torch');
  return path.join(venv, 'bin');
}

/**
 * The environment of a user's shell: this process's, less everything npm, vitest and torchkd set (npm_*, TORCHKD_*,
 * LIBTORCH), with `over` on top. With HOME moved to a temporary folder, npm keeps using this machine's npm cache (the
 * dependencies install offline) and pip this user's configuration file (the machine's wheel stores), as they would
 * for the user.
 */
export function userEnv(over: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(npm_|TORCHKD_|LIBTORCH$|INIT_CWD$|VITEST|NODE_OPTIONS$)/i.test(k)) continue;
    env[k] = v;
  }
  const cache = execFileSync('npm', ['config', 'get', 'cache'], { encoding: 'utf8' }).trim();
  const home = process.env.HOME ?? '';
  const pipConf = [process.env.PIP_CONFIG_FILE, path.join(process.env.XDG_CONFIG_HOME ?? path.join(home, '.config'), 'pip', 'pip.conf'), path.join(home, '.pip', 'pip.conf')]
    .find((f) => f && fs.existsSync(f));
  return { ...env, npm_config_cache: cache, npm_config_update_notifier: 'false', ...(pipConf ? { PIP_CONFIG_FILE: pipConf } : {}), ...over };
}

/** A fresh project folder with a package.json. */
export function freshApp(tmp: string, name: string): string {
  const app = path.join(tmp, name);
  fs.mkdirSync(app, { recursive: true });
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true }));
  return app;
}

export interface Timed extends SpawnSyncReturns<string> {
  seconds: number;
  log: string;
}

/** `npm install <tgz>` in `app`, install scripts in the foreground (their output is what a user sees). */
export function npmInstall(app: string, tgz: string, env: NodeJS.ProcessEnv): Timed {
  const t0 = Date.now();
  const r = spawnSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--foreground-scripts', tgz], { cwd: app, env, encoding: 'utf8', maxBuffer: 1 << 28 });
  return Object.assign(r, { seconds: (Date.now() - t0) / 1000, log: `${r.stdout}\n${r.stderr}` });
}

/** Node code run in `app` (CommonJS, or an ES module with `esm`). */
export function runNode(app: string, code: string, env: NodeJS.ProcessEnv, esm = false): SpawnSyncReturns<string> {
  return spawnSync('node', [...(esm ? ['--input-type=module'] : []), '-e', code], { cwd: app, env, encoding: 'utf8' });
}

/** CommonJS tensor code, printing matmul's sum, the libtorch version and where libtorch was mapped from. */
export const CJS_CHECK = [
  "const t = require('torchkd');",
  "const x = t.tensor([[1, 2], [3, 4]], {dtype: 'float32'});",
  "const maps = require('fs').readFileSync('/proc/self/maps', 'utf8').split('\\n').filter((l) => /libtorch_cpu\\.so/.test(l)).map((l) => l.split(/\\s+/).pop());",
  'console.log(JSON.stringify({ sum: x.matmul(x).sum().item(), libtorch: t.version.libtorch, maps: [...new Set(maps)] }));',
].join('\n');

/** The same through `import`, with the KD loss and a module class. */
export const ESM_CHECK = "import * as torch from 'torchkd'; import { kdLoss } from 'torchkd'; const s = torch.randn(4, 10); console.log(kdLoss(s, s.clone(), 2).item() < 1e-6, typeof torch.nn.Linear)";
