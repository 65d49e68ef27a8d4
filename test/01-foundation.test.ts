/**
 * Foundation: discovery, loading, errors and the first tensor ops, against PyTorch fixtures.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

import * as torch from '../lib/index';
import { TorchError } from '../lib/index';
import { gpuVisible, loadReport, prebuildCandidates, type LibtorchInfo } from '../lib/loader';
import { expectTensor, fixture, fromJson, thrown, type TensorJson } from './helpers';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const discovery = require('../lib/libtorch.js');
const ROOT = path.resolve(__dirname, '..');

describe('libtorch discovery', () => {
  it('finds a libtorch 2.x and reports version, CUDA, ABI and paths', () => {
    const info = discovery.discover();
    expect(info.ok).toBe(true);
    expect(info.version).toMatch(/^2\.\d+\.\d+$/);
    expect(typeof info.cuda).toBe('boolean');
    expect(typeof info.cxx11abi).toBe('boolean');
    expect(info.includeDirs.length).toBeGreaterThan(0);
    expect(info.flavor).toMatch(/^torch2\.\d+-(cpu|cu\d+)$/);
  });

  it('honours TORCHKD_LIBTORCH and explains a bad value', () => {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'lib', 'libtorch.js')], {
      env: { ...process.env, TORCHKD_LIBTORCH: '/nonexistent' },
      encoding: 'utf8',
    });
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('TORCHKD_LIBTORCH=/nonexistent does not exist');
    expect(r.stdout).toContain('fix:');
  });

  it('a relative TORCHKD_PYTHON path is made absolute, so children started elsewhere find it', () => {
    const code = `require(${JSON.stringify(path.join(ROOT, 'lib', 'libtorch.js'))}); console.log(process.env.TORCHKD_PYTHON)`;
    const cwd = os.tmpdir();
    const rel = spawnSync(process.execPath, ['-e', code], { cwd, env: { ...process.env, TORCHKD_PYTHON: './venv/bin/python' }, encoding: 'utf8' });
    expect(rel.stdout.trim()).toBe(path.join(fs.realpathSync(cwd), 'venv', 'bin', 'python'));
    const bare = spawnSync(process.execPath, ['-e', code], { cwd, env: { ...process.env, TORCHKD_PYTHON: 'python3' }, encoding: 'utf8' });
    expect(bare.stdout.trim()).toBe('python3');
  });

  it('prints compiler flags for gyp and a CMake script', () => {
    const gyp = spawnSync(process.execPath, [path.join(ROOT, 'lib', 'libtorch.js'), '--gyp', 'libraries'], { encoding: 'utf8' });
    expect(gyp.stdout).toMatch(/-ltorch_cpu/);
    const cmake = spawnSync(process.execPath, [path.join(ROOT, 'lib', 'libtorch.js'), '--cmake'], { encoding: 'utf8' });
    expect(cmake.stdout).toMatch(/set\(TORCHKD_TORCH_INCLUDE_DIRS /);
  });
});

describe('loading', () => {
  it('loads a binary without LD_LIBRARY_PATH and says where from', () => {
    expect(process.env.LD_LIBRARY_PATH ?? '').not.toMatch(/torch/);
    const report = loadReport();
    expect(report?.binary).toBeTruthy();
    expect(torch.version.libtorch).toMatch(/^2\./);
  });

  it('fails with one clear error (no dlopen trace) when libtorch is missing', () => {
    const code = `try { require(${JSON.stringify(path.join(ROOT, 'dist', 'index.js'))}); } catch (e) { console.log(JSON.stringify({name: e.name, code: e.code, message: e.message})); }`;
    const r = spawnSync(process.execPath, ['-e', code], { env: { ...process.env, TORCHKD_LIBTORCH: '/nonexistent' }, encoding: 'utf8' });
    const err = JSON.parse(r.stdout);
    expect(err.name).toBe('TorchError');
    expect(err.code).toBe('LOAD_FAILED');
    expect(err.message).toContain('found:');
    expect(err.message).toContain('fix:');
    expect(err.message).not.toMatch(/dlopen|\.so: cannot open/);
  });

  it('torchkd doctor reports the libtorch and the loaded binary', () => {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'torchkd.js'), 'doctor'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/libtorch: +2\.\d+\.\d+/);
    expect(r.stdout).toMatch(/binary: +\S+torchkd[^ ]*\.node/);
    expect(r.stdout).toContain('check:     tensor([1, 2, 3]).mul(2).sum() = 12 ok');
  });

  // libgomp reads GOMP_SPINCOUNT once, when it loads with libtorch: OMP_DISPLAY_ENV=VERBOSE makes it print what it read.
  it('OpenMP workers spin 10,000 iterations, not 300,000, unless the environment says otherwise; children do not inherit it', () => {
    const child = `const torch = require(${JSON.stringify(path.join(ROOT, 'dist', 'index.js'))});
torch.ones(1);
const { loadReport } = require(${JSON.stringify(path.join(ROOT, 'dist', 'loader.js'))});
console.log(JSON.stringify({ env: process.env.GOMP_SPINCOUNT ?? null, report: loadReport().ompSpinCount }));`;
    const run = (extra: Record<string, string>) => {
      const env: Record<string, string | undefined> = { ...process.env, OMP_DISPLAY_ENV: 'VERBOSE', ...extra };
      for (const k of ['OMP_WAIT_POLICY', 'GOMP_SPINCOUNT', 'TORCHKD_OMP_TUNING']) if (!(k in extra)) delete env[k];
      const r = spawnSync(process.execPath, ['-e', child], { env, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      return { spin: /GOMP_SPINCOUNT = '(\d+)'/.exec(r.stderr)?.[1], ...JSON.parse(r.stdout.trim().split('\n').pop()!) };
    };
    expect(run({})).toEqual({ spin: '10000', env: null, report: 10000 });
    expect(run({ TORCHKD_OMP_TUNING: '0' })).toEqual({ spin: '300000', env: null, report: null });
    expect(run({ GOMP_SPINCOUNT: '5000' })).toEqual({ spin: '5000', env: '5000', report: null });
    expect(run({ OMP_WAIT_POLICY: 'ACTIVE' })).toMatchObject({ env: null, report: null });
    const d = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'torchkd.js'), 'doctor'], { encoding: 'utf8', env: { ...process.env, GOMP_SPINCOUNT: '' } });
    expect(d.stdout).toContain("OpenMP spin: libgomp's");
  });

  // libtorch's THP_MEM_ALLOC_ENABLE works in torchkd as in PyTorch (the README recommends it where page faults are
  // slow): a 64 MiB tensor then sits on transparent huge pages, and doctor says the switch is on.
  const thpMode = (() => {
    try {
      return /\[(\w+)\]/.exec(fs.readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8'))?.[1] ?? null;
    } catch {
      return null;
    }
  })();
  it.skipIf(thpMode === null || thpMode === 'never')('THP_MEM_ALLOC_ENABLE=1 puts large CPU tensors on huge pages', () => {
    const env = { ...process.env, THP_MEM_ALLOC_ENABLE: '1' };
    const child = `
const torch = require(${JSON.stringify(path.join(ROOT, 'dist', 'index.js'))});
const x = torch.zeros([16, 1024, 1024]);
const kb = /AnonHugePages:\\s+(\\d+)/.exec(require('fs').readFileSync('/proc/self/smaps_rollup', 'utf8'))[1];
process.stdout.write(String(Number(kb) * 1024 / x.numel() / 4));`;
    const r = spawnSync(process.execPath, ['-e', child], { env, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    // Without the switch this is 0 here; with it, usually all of the tensor (any at all shows the switch works, and
    // a machine short of free huge pages may not back all of it).
    expect(Number(r.stdout)).toBeGreaterThan(0);
    const d = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'torchkd.js'), 'doctor'], { env, encoding: 'utf8' });
    expect(d.stdout).toMatch(/memory: +THP_MEM_ALLOC_ENABLE=1/);
  });
});

describe('choosing a prebuilt binary', () => {
  // A prebuilds folder with a CPU and a CUDA binary for torch 2.14, as a package with both would ship.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torchkd-prebuilds-'));
  for (const f of ['torchkd-torch2.14-cpu.node', 'torchkd-torch2.14-cu130.node', 'torchkd-torch2.13-cpu.node', 'torchkd_preload.node'])
    fs.writeFileSync(path.join(dir, f), '');
  const cpuTorch: LibtorchInfo = { ok: true, source: 'test', cuda: false, flavor: 'torch2.14-cpu' };
  const cudaTorch: LibtorchInfo = { ok: true, source: 'test', cuda: true, cudaVersion: '13.0', flavor: 'torch2.14-cu130' };
  const names = (r: { files: string[] }) => r.files.map((f) => path.basename(f));

  it('a CPU libtorch only ever gets the CPU binary, even with a CUDA one present', () => {
    for (const visible of [false, true]) {
      expect(names(prebuildCandidates(dir, cpuTorch, { visible, why: 'test' }))).toEqual(['torchkd-torch2.14-cpu.node']);
    }
  });

  it('a CUDA libtorch with a visible GPU tries the CUDA binary first, and says why', () => {
    const r = prebuildCandidates(dir, cudaTorch, { visible: true, why: '1 NVIDIA device node(s) and a driver' });
    expect(names(r)).toEqual(['torchkd-torch2.14-cu130.node', 'torchkd-torch2.14-cpu.node']);
    expect(r.choice).toMatch(/GPU is visible .*CUDA binary first/);
  });

  it('a CUDA libtorch without a GPU tries the CPU binary first, the CUDA one as fallback', () => {
    const r = prebuildCandidates(dir, cudaTorch, { visible: false, why: 'no /dev/nvidia<N> device' });
    expect(names(r)).toEqual(['torchkd-torch2.14-cpu.node', 'torchkd-torch2.14-cu130.node']);
    expect(r.choice).toMatch(/no GPU is visible/);
  });

  it('GPU visibility is judged from device nodes, the driver and CUDA_VISIBLE_DEVICES', () => {
    const fake = fs.mkdtempSync(path.join(os.tmpdir(), 'torchkd-fsroot-'));
    fs.mkdirSync(path.join(fake, 'dev'));
    expect(gpuVisible(fake).visible).toBe(false);
    fs.writeFileSync(path.join(fake, 'dev', 'nvidia0'), '');
    expect(gpuVisible(fake)).toEqual({ visible: false, why: 'no NVIDIA kernel driver (/proc/driver/nvidia)' });
    fs.mkdirSync(path.join(fake, 'proc', 'driver', 'nvidia'), { recursive: true });
    expect(gpuVisible(fake).visible).toBe(true);
    const saved = process.env.CUDA_VISIBLE_DEVICES;
    process.env.CUDA_VISIBLE_DEVICES = '';
    try {
      expect(gpuVisible(fake).visible).toBe(false);
    } finally {
      if (saved === undefined) delete process.env.CUDA_VISIBLE_DEVICES;
      else process.env.CUDA_VISIBLE_DEVICES = saved;
    }
    fs.rmSync(fake, { recursive: true, force: true });
  });

  it('under WSL 2 a GPU is /dev/dxg with the driver libcuda in /usr/lib/wsl/lib', () => {
    const fake = fs.mkdtempSync(path.join(os.tmpdir(), 'torchkd-fsroot-'));
    fs.mkdirSync(path.join(fake, 'dev'));
    fs.writeFileSync(path.join(fake, 'dev', 'dxg'), '');
    expect(gpuVisible(fake)).toEqual({ visible: false, why: 'WSL 2 /dev/dxg but no libcuda in /usr/lib/wsl/lib' });
    fs.mkdirSync(path.join(fake, 'usr', 'lib', 'wsl', 'lib'), { recursive: true });
    fs.writeFileSync(path.join(fake, 'usr', 'lib', 'wsl', 'lib', 'libcuda.so.1'), '');
    expect(gpuVisible(fake).visible).toBe(true);
    expect(gpuVisible(fake).why).toMatch(/WSL 2/);
    fs.rmSync(fake, { recursive: true, force: true });
  });
});

describe('errors', () => {
  it('libtorch failures are TorchError with the message and no C++ backtrace', () => {
    const a = torch.ones(2, 3);
    const b = torch.ones(4, 5);
    const err = thrown(() => a.matmul(b));
    expect(err).toBeInstanceOf(TorchError);
    const e = err as TorchError;
    expect(e.message).toMatch(/cannot be multiplied/);
    expect(e.message).not.toMatch(/Exception raised from|frame #\d/);
    expect(e.code).toBe('TORCH_ERROR');
  });

  it('an OUT_OF_MEMORY failure is a torch.cuda.OutOfMemoryError (also a TorchError), as PyTorch users catch it', async () => {
    const { specialise } = await import('../lib/errors');
    const e = specialise(new TorchError('CUDA out of memory. Tried to allocate 4.00 TiB', 'OUT_OF_MEMORY'));
    expect(e).toBeInstanceOf(torch.cuda.OutOfMemoryError);
    expect(e).toBeInstanceOf(torch.OutOfMemoryError);
    expect(e).toBeInstanceOf(TorchError);
    expect([e.name, (e as TorchError).code, e.message]).toEqual(['OutOfMemoryError', 'OUT_OF_MEMORY', 'CUDA out of memory. Tried to allocate 4.00 TiB']);
    expect(specialise(new TorchError('x', 'INDEX_ERROR'))).not.toBeInstanceOf(torch.OutOfMemoryError);
  });

  it('a CPU allocation larger than memory is an OutOfMemoryError giving the size in readable units, and the process goes on', () => {
    let e: unknown = null;
    try {
      torch.empty([1024, 1024, 1024, 1024], { dtype: 'float32' }); // 4 TiB
    } catch (err) {
      e = err;
    }
    expect(e).toBeInstanceOf(torch.OutOfMemoryError);
    expect((e as Error).message).toBe('tried to allocate 4.00 TiB (4398046511104 bytes) of CPU memory, more than is available');
    expect(torch.ones(2).sum().item()).toBe(2);
  });

  it('index errors carry INDEX_ERROR', () => {
    expect(() => torch.ones(3).select(0, 7)).toThrow(expect.objectContaining({ code: 'INDEX_ERROR' }));
  });

  it('argument errors are TypeError / RangeError', () => {
    expect(() => torch.ones(2).add('x' as never)).toThrow(TypeError);
    expect(() => torch.zeros(2.5)).toThrow(RangeError);
    expect(() => torch.ones(2).to('float128' as never)).toThrow(RangeError);
  });
});

describe('tensors match PyTorch', () => {
  const fx = fixture<Record<string, TensorJson>>('foundation');

  it('creates from nested arrays and typed arrays', () => {
    expectTensor(torch.tensor([[1.5, -2], [3, 4.25]]), fx.nested);
    expectTensor(torch.tensor(new Float32Array([0.1, 0.2, 0.3])), fx.float32);
    expectTensor(torch.tensor(new BigInt64Array([1n, -2n, 3n])), fx.int64);
    expectTensor(torch.tensor(new Float64Array([1, 2, 3, 4, 5, 6]), { shape: [2, 3] }), fx.float64_2x3);
  });

  it('add, matmul, sum and item equal PyTorch to the bit', () => {
    const a = fromJson(fx.a);
    const b = fromJson(fx.b);
    expectTensor(a.add(b), fx.add);
    expectTensor(a.matmul(b), fx.matmul);
    expectTensor(a.sum(), fx.sum);
    expect(a.sum().item()).toBe(fx.sum.data[0]);
  });

  it('shape, dtype, device and data()', () => {
    const t = torch.zeros([2, 3], { dtype: 'float64' });
    expect(t.shape).toEqual([2, 3]);
    expect(t.dtype).toBe('float64');
    expect(t.device).toBe('cpu');
    expect(t.data()).toBeInstanceOf(Float64Array);
    expect(torch.tensor([1, 2]).data()).toBeInstanceOf(BigInt64Array);
  });
});
