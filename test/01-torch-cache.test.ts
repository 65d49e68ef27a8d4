/**
 * The per-user PyTorch cache (lib/torch-cache.js) and its place in discovery, without installing anything: where the
 * cache is, which flavour a machine gets, the pip commands, and discovery finding a (fake) cache entry after a
 * Python's torch and before system packages. The real installs are in the heavy project (test/08-pack.test.ts).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const cache = require('../lib/torch-cache.js');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const discovery = require('../lib/libtorch.js');
const ROOT = path.resolve(__dirname, '..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'torchkd-cache-unit-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('the PyTorch cache', () => {
  it('lives in TORCHKD_CACHE_DIR, else XDG_CACHE_HOME/torchkd, else ~/.cache/torchkd', () => {
    expect(cache.cacheRoot({ TORCHKD_CACHE_DIR: '/x/c', XDG_CACHE_HOME: '/y', HOME: '/h' })).toBe('/x/c');
    expect(cache.cacheRoot({ XDG_CACHE_HOME: '/y', HOME: '/h' })).toBe('/y/torchkd');
    expect(cache.cacheRoot({ XDG_CACHE_HOME: 'relative', HOME: '/h' })).toBe('/h/.cache/torchkd'); // XDG: absolute only
    expect(cache.cacheRoot({ HOME: '/h' })).toBe('/h/.cache/torchkd');
  });

  it('installs the CUDA build where an NVIDIA driver is present, else the CPU build; TORCHKD_TORCH_FLAVOR overrides', () => {
    const fake = path.join(tmp, 'root');
    expect(cache.nvidiaDriver(fake).present).toBe(false);
    fs.mkdirSync(path.join(fake, 'proc', 'driver', 'nvidia'), { recursive: true });
    fs.writeFileSync(path.join(fake, 'proc', 'driver', 'nvidia', 'version'), 'NVRM version: 580\n');
    expect(cache.nvidiaDriver(fake)).toEqual({ present: true, why: 'NVIDIA kernel driver (/proc/driver/nvidia)' });
    const wsl = path.join(tmp, 'wsl');
    fs.mkdirSync(path.join(wsl, 'dev'), { recursive: true });
    fs.writeFileSync(path.join(wsl, 'dev', 'dxg'), '');
    fs.mkdirSync(path.join(wsl, 'usr', 'lib', 'wsl', 'lib'), { recursive: true });
    fs.writeFileSync(path.join(wsl, 'usr', 'lib', 'wsl', 'lib', 'libcuda.so.1'), '');
    expect(cache.nvidiaDriver(wsl).present).toBe(true);
    expect(cache.machineFlavour({ TORCHKD_TORCH_FLAVOR: 'cuda' }).flavour).toBe('cuda');
    expect(cache.machineFlavour({ TORCHKD_TORCH_FLAVOR: 'cpu' }).flavour).toBe('cpu');
    expect(cache.entryName('cpu')).toBe(`torch-${cache.PINNED.cpu}-cpu`);
  });

  it('pins the versions the prebuilt binaries are made for, and asks pip for them', () => {
    expect(cache.PINNED).toEqual({ cpu: '2.13.0', cuda: '2.14.1' });
    expect(cache.pipAttempts('cpu')).toEqual([['torch==2.13.0+cpu', 'numpy'], ['torch==2.13.0', 'numpy']]);
    const cuda = cache.pipAttempts('cuda');
    expect(cuda[0]).toEqual(['torch==2.14.1', 'numpy']);
    expect(cuda[1].slice(0, 2)).toEqual(['--no-deps', 'torch==2.14.1']); // the fallback for stores without the extras
    expect(cuda[1]).toContain('nvidia-cudnn-cu13');
  });

  it('uses pip as configured: local stores become the index; the public index gets PyTorch\'s CPU index for the CPU wheel', () => {
    const local = { 'extra-index-url': ['file:///opt/a/simple', 'file:///opt/b/simple'], 'find-links': ['/opt/wheels'] };
    expect(cache.pipIndexArgs(local, 'cpu', {})).toEqual(['--index-url', 'file:///opt/a/simple', '--extra-index-url', 'file:///opt/b/simple']);
    expect(cache.pipIndexArgs({}, 'cpu', {})).toEqual(['--extra-index-url', cache.CPU_INDEX]);
    expect(cache.pipIndexArgs({}, 'cuda', {})).toEqual([]);
    expect(cache.pipIndexArgs({ 'index-url': ['https://mirror/simple'] }, 'cpu', {})).toEqual([]); // a configured index is left alone
    expect(cache.pipIndexArgs({}, 'cpu', { TORCHKD_TORCH_INDEX_URL: 'https://x/cpu' })).toEqual(['--extra-index-url', 'https://x/cpu']);
    const mixed = { 'extra-index-url': ['file:///opt/a/simple', 'https://remote/simple'] };
    expect(cache.pipIndexArgs(mixed, 'cuda', {})).toEqual([]);
  });

  it('discovery finds a cache entry after a Python\'s torch, and names `npx torchkd setup` when there is none', () => {
    // A fake entry that links the project venv's torch folder: enough for discovery, which reads files only.
    const info = discovery.discover();
    const entry = path.join(tmp, 'cache', `torch-${cache.PINNED.cpu}-cpu`);
    fs.mkdirSync(path.join(entry, 'site-packages'), { recursive: true });
    fs.symlinkSync(info.root, path.join(entry, 'site-packages', 'torch'));
    fs.writeFileSync(path.join(entry, 'python'), '#!/bin/sh\nexit 1\n', { mode: 0o755 });
    // A package copy without a venv next to it, run from a folder without one, with python3 lacking torch.
    const pkg = path.join(tmp, 'pkg');
    fs.mkdirSync(path.join(pkg, 'lib'), { recursive: true });
    for (const f of ['libtorch.js', 'torch-cache.js']) fs.copyFileSync(path.join(ROOT, 'lib', f), path.join(pkg, 'lib', f));
    const bin = path.join(tmp, 'bin');
    fs.mkdirSync(bin, { recursive: true });
    fs.writeFileSync(path.join(bin, 'python3'), '#!/bin/sh\necho ""\n', { mode: 0o755 }); // a Python without torch
    const env: NodeJS.ProcessEnv = { PATH: `${bin}:/usr/bin:/bin`, HOME: tmp, TORCHKD_TORCH_FLAVOR: 'cpu' };
    const run = (over: NodeJS.ProcessEnv) => JSON.parse(spawnSync(process.execPath, [path.join(pkg, 'lib', 'libtorch.js'), '--json'], { cwd: tmp, env: { ...env, ...over }, encoding: 'utf8' }).stdout);
    const found = run({ TORCHKD_CACHE_DIR: path.join(tmp, 'cache') });
    expect(found.ok).toBe(true);
    expect(found.source).toBe(`the PyTorch cache (${entry})`);
    expect(found.python).toBe(path.join(entry, 'python'));
    expect(found.flavor).toBe(info.flavor);
    // A Python's torch comes first.
    const viaPython = run({ TORCHKD_CACHE_DIR: path.join(tmp, 'cache'), TORCHKD_PYTHON: info.python });
    expect(viaPython.source).toMatch(/^python \(TORCHKD_PYTHON=/);
    // None anywhere: the fix names the command.
    const none = run({ TORCHKD_CACHE_DIR: path.join(tmp, 'empty') });
    expect(none.ok).toBe(false);
    expect(none.tried).toContain(`the PyTorch cache ${path.join(tmp, 'empty')} has no complete entry`);
    expect(none.fix[0]).toMatch(/^run `npx torchkd setup` \(installs PyTorch 2\.13\.0 \(CPU\) into /);
  });
});
