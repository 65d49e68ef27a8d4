/**
 * `torchkd run`, the torchrun of Node scripts: the environment each rank gets, output prefixed by rank, a job whose
 * ranks meet through env:// and reduce together, a failing rank that stops the others and names itself in a
 * non-zero exit, and usage errors. A Python script in the job runs under the same environment with torch.distributed.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { DIST, freePort } from './dist-helpers';
import { itWhen, pythonWithTorch } from './helpers';

const BIN = path.join(__dirname, '..', 'bin', 'torchkd.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torchkd-run-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function script(name: string, body: string): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, body);
  return p;
}

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function run(args: string[], env: Record<string, string> = {}): Promise<Ran> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, 'run', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

const ENV_KEYS = ['MASTER_ADDR', 'MASTER_PORT', 'RANK', 'LOCAL_RANK', 'WORLD_SIZE', 'LOCAL_WORLD_SIZE', 'GROUP_RANK', 'GROUP_WORLD_SIZE', 'ROLE_RANK', 'OMP_NUM_THREADS'];

const job = script(
  'job.js',
  `const torch = require(${JSON.stringify(DIST)});
const dist = torch.distributed;
const env = Object.fromEntries(${JSON.stringify(ENV_KEYS)}.map((k) => [k, process.env[k]]));
dist.initProcessGroup({ backend: 'gloo', timeout: 30000 });
const t = torch.tensor([dist.getRank() + 1], { dtype: 'float32' });
dist.allReduce(t);
console.log(JSON.stringify({ env, args: process.argv.slice(2), sum: t.item() }));
console.error('a line on stderr');
dist.destroyProcessGroup();
`,
);

function lines(out: string, rank: number): string[] {
  return out
    .split('\n')
    .filter((l) => l.startsWith(`[rank${rank}]:`))
    .map((l) => l.slice(`[rank${rank}]:`.length));
}

describe('torchkd run', () => {
  it("starts N ranks with torchrun's environment; they meet through env:// and their output is prefixed by rank", async () => {
    const port = await freePort();
    const r = await run(['--nproc-per-node', '3', '--master-port', String(port), job, 'a', '--flag']);
    expect(r.code, r.stderr).toBe(0);
    for (const rank of [0, 1, 2]) {
      const out = JSON.parse(lines(r.stdout, rank)[0]) as { env: Record<string, string>; args: string[]; sum: number };
      expect(out.sum).toBe(6);
      expect(out.args).toEqual(['a', '--flag']);
      expect(out.env).toEqual({
        MASTER_ADDR: '127.0.0.1',
        MASTER_PORT: String(port),
        RANK: String(rank),
        LOCAL_RANK: String(rank),
        WORLD_SIZE: '3',
        LOCAL_WORLD_SIZE: '3',
        GROUP_RANK: '0',
        GROUP_WORLD_SIZE: '1',
        ROLE_RANK: String(rank),
        OMP_NUM_THREADS: process.env.OMP_NUM_THREADS ?? '1',
      });
      expect(lines(r.stderr, rank)).toContain('a line on stderr');
    }
  }, 120_000);

  it('a node of a multi-node job numbers its ranks after the nodes before it (--nnodes, --node-rank)', async () => {
    const env = script('env.js', `console.log(JSON.stringify([process.env.RANK, process.env.LOCAL_RANK, process.env.WORLD_SIZE, process.env.GROUP_RANK, process.env.MASTER_ADDR]));\n`);
    const r = await run(['--nnodes=2', '--node_rank=1', '--nproc_per_node=2', '--master-addr', '10.1.2.3', env]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(lines(r.stdout, 2)[0])).toEqual(['2', '0', '4', '1', '10.1.2.3']);
    expect(JSON.parse(lines(r.stdout, 3)[0])).toEqual(['3', '1', '4', '1', '10.1.2.3']);
  }, 60_000);

  it('a failing rank stops the others (blocked in a collective) and the launcher exits 1 naming it and why', async () => {
    const failing = script(
      'failing.js',
      `const torch = require(${JSON.stringify(DIST)});
const dist = torch.distributed;
dist.initProcessGroup({ backend: 'gloo' });  // the default 30-minute timeout: only the launcher can end rank 0's wait
if (dist.getRank() === 1) {
  console.error('rank 1 gives up: out of cheese');
  process.exit(3);
}
dist.allReduce(torch.ones([2]));
console.log('unreachable');
`,
    );
    const r = await run(['--standalone', '--nproc-per-node', '2', '--term-timeout', '2', failing]);
    expect(r.code).toBe(1);
    expect(r.stdout).not.toMatch(/unreachable/);
    expect(r.stderr).toMatch(/torchkd run: rank 1 \(local rank 1, pid \d+\) failed: it exited with code 3; the other ranks were stopped/);
    expect(r.stderr).toMatch(/its last error output:\n\s+rank 1 gives up: out of cheese/);
    expect(r.ms).toBeLessThan(30_000);
  }, 60_000);

  it('a rank killed by a signal is reported with the signal', async () => {
    const crash = script('crash.js', `if (process.env.RANK === '0') process.kill(process.pid, 'SIGKILL'); else setTimeout(() => {}, 60000);\n`);
    const r = await run(['--nproc-per-node', '2', '--term-timeout', '1', crash]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/rank 0 \(local rank 0, pid \d+\) failed: it was killed by signal SIGKILL/);
    expect(r.ms).toBeLessThan(30_000);
  }, 60_000);

  it('usage errors exit 2 with the usage; --help exits 0', async () => {
    for (const args of [[], ['--nproc-per-node', '0', job], ['--nproc-per-node', 'many', job], ['--node-rank', '2', '--nnodes', '2', job], ['--bogus', job], ['--master-port', '70000', job]]) {
      const r = await run(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(/torchkd run: .*\n\nusage: torchkd run/);
    }
    const h = await run(['--help']);
    expect(h.code).toBe(0);
    expect(h.stdout).toMatch(/^usage: torchkd run/);
  }, 60_000);

  itWhen(!!pythonWithTorch(), 'needs the Python oracle (the project venv with torch): none found', 'a Python script runs under the same environment with torch.distributed', async () => {
    const py = script(
      'job.py',
      `import torch, torch.distributed as dist
dist.init_process_group('gloo')
t = torch.tensor([float(dist.get_rank() + 1)])
dist.all_reduce(t)
print('sum', int(t.item()), 'of', dist.get_world_size())
dist.destroy_process_group()
`,
    );
    const r = await run(['--standalone', '--nproc-per-node', '2', py], { TORCHKD_PYTHON: pythonWithTorch()! });
    expect(r.code, r.stderr).toBe(0);
    expect(lines(r.stdout, 0)).toEqual(['sum 3 of 2']);
    expect(lines(r.stdout, 1)).toEqual(['sum 3 of 2']);
  }, 120_000);
});
