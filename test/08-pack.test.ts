/**
 * The package installs from its tarball (prebuilt binary included) into a fresh project whose PATH has no C/C++
 * compiler, make, cmake or node-gyp, and runs tensor code there with both require and import.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '..');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const info = require('../scripts/libtorch.js').discover();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'torchkd-pack-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A bin folder with node, npm and the shell tools npm scripts use, but no compilers or build tools. */
function restrictedPath(): string {
  const bin = path.join(tmp, 'bin');
  fs.mkdirSync(bin, { recursive: true });
  const tools = ['sh', 'bash', 'env', 'cat', 'ls', 'mkdir', 'rm', 'cp', 'mv', 'chmod', 'uname', 'sed', 'grep', 'tar', 'gzip', 'dirname', 'basename', 'readlink', 'python3'];
  for (const t of tools) {
    const r = spawnSync('sh', ['-c', `command -v ${t}`], { encoding: 'utf8' });
    if (r.status === 0) fs.symlinkSync(r.stdout.trim(), path.join(bin, t));
  }
  fs.symlinkSync(process.execPath, path.join(bin, 'node'));
  const npmCli = path.join(path.dirname(fs.realpathSync(spawnSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).stdout.trim())), 'npm-cli.js');
  fs.writeFileSync(path.join(bin, 'npm'), `#!/bin/sh\nexec "${process.execPath}" "${npmCli}" "$@"\n`, { mode: 0o755 });
  return bin;
}

describe('npm pack and install without a compiler', () => {
  it('installs the tarball with its prebuilt binary and runs tensor code with require and import', () => {
    // Stage the package as `npm pack` would see it after `npm run prebuild`: the source build is the same binary
    // prebuildify makes (it runs the same node-gyp build), named by libtorch flavour.
    const pkg = path.join(tmp, 'pkg');
    fs.mkdirSync(pkg);
    const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    for (const entry of [...manifest.files, 'package.json']) {
      const src = path.join(ROOT, entry.replace(/\/$/, ''));
      if (fs.existsSync(src) && !entry.startsWith('prebuilds')) fs.cpSync(src, path.join(pkg, entry.replace(/\/$/, '')), { recursive: true });
    }
    const pre = path.join(pkg, 'prebuilds', `${process.platform}-${process.arch}`);
    fs.mkdirSync(pre, { recursive: true });
    fs.copyFileSync(path.join(ROOT, 'build', 'Release', 'torchkd.node'), path.join(pre, `torchkd-${info.flavor}.napi.node`));
    fs.copyFileSync(path.join(ROOT, 'build', 'Release', 'torchkd_preload.node'), path.join(pre, 'torchkd_preload.node'));
    const tgz = execFileSync('npm', ['pack', '--silent', '--pack-destination', tmp], { cwd: pkg, encoding: 'utf8' }).trim().split('\n').pop() as string;
    const listing = execFileSync('tar', ['-tzf', path.join(tmp, tgz)], { encoding: 'utf8' });
    expect(listing).toContain(`package/prebuilds/${process.platform}-${process.arch}/torchkd-${info.flavor}.napi.node`);
    expect(listing).toContain('package/dist/esm/index.mjs');
    expect(listing).not.toMatch(/package\/(lib|test)\//);

    const bin = restrictedPath();
    const env = { ...process.env, PATH: bin, TORCHKD_PYTHON: info.python, npm_config_nodedir: '', HOME: process.env.HOME };
    for (const tool of ['gcc', 'g++', 'cc', 'c++', 'make', 'cmake', 'node-gyp']) {
      expect(spawnSync('sh', ['-c', `command -v ${tool}`], { env }).status).not.toBe(0);
    }
    const app = path.join(tmp, 'app');
    fs.mkdirSync(app);
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
    const install = spawnSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--foreground-scripts', path.join(tmp, tgz)], { cwd: app, env, encoding: 'utf8' });
    expect(install.status, install.stderr).toBe(0);
    expect(install.stdout + install.stderr).toContain(`using prebuilt torchkd-${info.flavor}`);

    const cjs = spawnSync('node', ['-e', "const t = require('torchkd'); const x = t.tensor([[1, 2], [3, 4]], {dtype: 'float32'}); console.log(x.matmul(x).sum().item(), t.version.libtorch)"], { cwd: app, env, encoding: 'utf8' });
    expect(cjs.stderr).toBe('');
    expect(cjs.stdout.trim()).toBe(`54 ${info.versionString}`);
    const esm = spawnSync('node', ['--input-type=module', '-e', "import * as torch from 'torchkd'; import { kdLoss } from 'torchkd'; const s = torch.randn(4, 10); console.log(kdLoss(s, s.clone(), 2).item() < 1e-6, typeof torch.nn.Linear)"], { cwd: app, env, encoding: 'utf8' });
    expect(esm.stderr).toBe('');
    expect(esm.stdout.trim()).toBe('true function');
  });
});
