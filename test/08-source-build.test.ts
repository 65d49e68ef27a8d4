/**
 * The source-build fallback from the tarball (heavy project): a tarball with no prebuilt binary, installed where a
 * libtorch is found. With a compiler that fails, the install still succeeds, prints the compiler's own error, and
 * the loader's error repeats it; with the real compiler the build succeeds (about 8 minutes on 2 cores, -j2) and
 * tensor code runs.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CJS_CHECK, freshApp, info, npmInstall, packPackage, runNode, tarList, toolsBin, userEnv } from './08-pack-helpers';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'torchkd-srcbuild-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('install from the tarball with no matching prebuilt binary', () => {
  let tgz = '';
  beforeAll(() => {
    expect(info.ok).toBe(true);
    tgz = packPackage(tmp, { prebuilt: false });
    expect(tarList(tgz).filter((f) => f.startsWith('prebuilds/'))).toEqual([]);
  });

  it('a failing compiler: the install succeeds, and the install output and the load error give the real cause', () => {
    const fail = '#!/bin/sh\necho "$0: error: simulated compiler failure (test)" >&2\nexit 1\n';
    const bin = toolsBin(tmp, 'bin-badcc', { 'g++': fail, 'c++': fail, gcc: fail, cc: fail });
    const make = fs.realpathSync('/usr/bin/make');
    fs.symlinkSync(make, path.join(bin, 'make'));
    const py = path.dirname(fs.realpathSync(info.python as string));
    const env = userEnv({ PATH: `${bin}:${py}`, TORCHKD_PYTHON: info.python as string, TORCHKD_BUILD_JOBS: '2' });
    const app = freshApp(tmp, 'app-badcc');
    const r = npmInstall(app, tgz, env);
    expect(r.status, r.log).toBe(0);
    expect(r.log).toContain(`no prebuilt binary for ${info.flavor}; building from source`);
    expect(r.log).toMatch(/torchkd: the source build failed: .*error: simulated compiler failure \(test\)/);
    const load = runNode(app, "try { require('torchkd').zeros(1); } catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }", env);
    const err = JSON.parse(load.stdout);
    expect(err.code).toBe('LOAD_FAILED');
    expect(err.message).toMatch(/build: +the source build failed: .*error: simulated compiler failure \(test\)/);
    expect(err.message).toMatch(/full log: \S+torchkd-build\.log/);
    expect(err.message).toContain('fix:    run `npx torchkd setup`');
  });

  it('a compiler present: the source build succeeds and tensor code runs (-j2)', () => {
    // The machine's PATH (compilers, make, python3), libtorch from this checkout's venv.
    const env = userEnv({ TORCHKD_PYTHON: info.python as string, TORCHKD_BUILD_JOBS: '2' });
    const app = freshApp(tmp, 'app-build');
    const r = npmInstall(app, tgz, env);
    console.log(`install with a source build: ${r.seconds.toFixed(0)} s`);
    expect(r.status, r.log.slice(-4000)).toBe(0);
    expect(r.log).toContain(`built from source for ${info.flavor}`);
    const pkg = path.join(app, 'node_modules', 'torchkd');
    expect(fs.existsSync(path.join(pkg, 'build', 'Release', 'torchkd.node'))).toBe(true);
    expect(fs.existsSync(path.join(pkg, 'build', 'torchkd-build-failure.json'))).toBe(false);
    const out = runNode(app, CJS_CHECK, env);
    expect(out.stderr).toBe('');
    expect(JSON.parse(out.stdout)).toMatchObject({ sum: 54, libtorch: info.versionString });
  }, 1_800_000);
});
