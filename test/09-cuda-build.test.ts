/**
 * The CUDA flavour builds, links and loads on a machine without a GPU (CUDA then reports no device). It needs the
 * CUDA build of PyTorch in `.venv-cuda` (`npm run setup -- --cuda` installs it from the machine's wheel store) and
 * nvcc; where either is absent the test is skipped, visibly.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '..');
const PY = path.join(ROOT, '.venv-cuda', 'bin', 'python');
const NVCC = [process.env.CUDA_HOME, '/usr/local/cuda'].filter(Boolean).map((d) => path.join(d as string, 'bin', 'nvcc')).find((p) => fs.existsSync(p));
const READY = fs.existsSync(PY) && !!NVCC;

describe('CUDA flavour on a CPU-only machine', () => {
  it.skipIf(!READY)('builds with CMake against the CUDA wheel, loads, and reports no device', () => {
    const env = { ...process.env, TORCHKD_PYTHON: PY };
    const build = path.join(ROOT, 'build-cuda');
    const nodeInclude = path.join(path.dirname(path.dirname(process.execPath)), 'include', 'node');
    const conf = spawnSync('cmake', ['-S', ROOT, '-B', build, `-DNODE_INCLUDE_DIR=${nodeInclude}`, `-DCMAKE_CUDA_COMPILER=${NVCC}`, '-DCMAKE_BUILD_TYPE=Release'], { env, encoding: 'utf8' });
    expect(conf.status, conf.stdout + conf.stderr).toBe(0);
    expect(conf.stdout).toMatch(/torchkd: libtorch 2\.\d+\.\d+\+cu\d+ \(torch2\.\d+-cu\d+\)/);
    const make = spawnSync('cmake', ['--build', build, '-j', String(Math.max(2, require('node:os').cpus().length))], { env, encoding: 'utf8' });
    expect(make.status, make.stdout.slice(-2000) + make.stderr.slice(-2000)).toBe(0);
    const code = [
      `const t = require(${JSON.stringify(path.join(ROOT, 'dist', 'index.js'))});`,
      'console.log(JSON.stringify({ built: t.cuda.isBuiltWithCuda(), available: t.cuda.isAvailable(), devices: t.cuda.deviceCount(),',
      "  sum: t.tensor([1, 2, 3], { dtype: 'float32' }).mul(2).sum().item(), cuda: t.version.cuda }));",
    ].join('\n');
    const run = spawnSync(process.execPath, ['-e', code], { env: { ...env, TORCHKD_BINARY: path.join(build, 'torchkd.node') }, encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({ built: true, available: false, devices: 0, sum: 12, cuda: expect.stringMatching(/^\d+\.\d+$/) });
  }, 1_800_000);

  it.skipIf(!READY)('node-gyp (the release-prebuild and install route) configures the CUDA flavour: nvcc rule, CUDA headers, runtime', () => {
    // Configure only (the full node-gyp build is `npm run release:prebuilds`): a scratch package whose binding.gyp,
    // scripts, discovery and sources are this checkout's, so gyp's variables and conditions are evaluated exactly as a
    // release build would.
    const dir = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'torchkd-gyp-cuda-'));
    fs.copyFileSync(path.join(ROOT, 'binding.gyp'), path.join(dir, 'binding.gyp'));
    fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(dir, 'package.json'));
    for (const d of ['scripts', 'lib', 'native', 'node_modules']) fs.symlinkSync(path.join(ROOT, d), path.join(dir, d));
    const prefix = path.dirname(path.dirname(process.execPath));
    const nodedir = fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h')) ? [`--nodedir=${prefix}`] : [];
    const gyp = spawnSync(process.execPath, [path.join(ROOT, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'), 'configure', ...nodedir], {
      cwd: dir, env: { ...process.env, TORCHKD_PYTHON: PY }, encoding: 'utf8',
    });
    expect(gyp.status, gyp.stderr.slice(-2000)).toBe(0);
    const mk = fs.readFileSync(path.join(dir, 'build', 'torchkd.target.mk'), 'utf8');
    expect(mk).toMatch(/kd_loss_cuda\.cu\.o/); // the .cu rule (scripts/nvcc.js)
    expect(mk).toMatch(/kd_loss_cuda_glue\.o/);
    expect(mk).toMatch(/TORCHKD_WITH_CUDA=1/);
    expect(mk).toMatch(/-I\S*nvidia\/\S+\/include|-I\S*cuda\S*\/include/); // headers c10/cuda includes
    expect(mk).toMatch(/-lc10_cuda/);
    expect(mk).toMatch(/-lcudart|-l:libcudart\.so\.\d+/);
    fs.rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it.skipIf(!NVCC)('the CUDA kernels compile with nvcc alone (compile-only switch)', () => {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'nvcc.js'), '--check'], { encoding: 'utf8', env: { ...process.env, TORCHKD_CUDA_ARCH: '90' } });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/compiled native\/kd\/kd_loss_cuda\.cu/);
  }, 300_000);
});
