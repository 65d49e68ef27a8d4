/**
 * Helpers of the distributed tests: free loopback ports, and jobs of Node and Python ranks run as child processes
 * (test/11-dist-worker.js / .py and friends), each printing one JSON line of results.
 */
import { spawn } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';

import { pythonWithTorch } from './helpers';

const ROOT = path.resolve(__dirname, '..');
/** The compiled library, as child processes load it. */
export const DIST = path.join(ROOT, 'dist', 'index.js');

/** A port free on 127.0.0.1 right now (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** How one rank ended. */
export interface RankResult {
  rank: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The parsed `results` of the rank's last JSON line, if it printed one. */
  results?: Record<string, unknown>;
  ms: number;
}

export type Lang = 'node' | 'python';

/** A rank's command line: [executable, args]. */
export type Command = [string, string[]];

/** The worker of `base` (e.g. '11-dist-worker') in the given language. */
export function workerCommand(lang: Lang, base: string, scenario: string, args: object = {}): Command {
  if (lang === 'node') return [process.execPath, [path.join(__dirname, `${base}.js`), DIST, scenario, JSON.stringify(args)]];
  const py = pythonWithTorch();
  if (!py) throw new Error('no Python with torch');
  return [py, [path.join(__dirname, `${base}.py`), scenario, JSON.stringify(args)]];
}

/**
 * Runs one job: rank r runs commands[r] with env:// variables for 127.0.0.1:port. Resolves when every rank has
 * ended; ranks still running after `timeoutMs` are killed (their code is then null).
 */
export async function runJob(commands: Command[], options: { timeoutMs?: number; env?: Record<string, string>; port?: number } = {}): Promise<RankResult[]> {
  const port = options.port ?? (await freePort());
  const world = commands.length;
  const started = Date.now();
  const children = commands.map(([exe, argv], rank) =>
    spawn(exe, argv, {
      cwd: ROOT,
      env: {
        ...process.env,
        MASTER_ADDR: '127.0.0.1',
        MASTER_PORT: String(port),
        RANK: String(rank),
        LOCAL_RANK: String(rank),
        WORLD_SIZE: String(world),
        LOCAL_WORLD_SIZE: String(world),
        OMP_NUM_THREADS: '1',
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  const timer = setTimeout(() => children.forEach((c) => c.exitCode === null && c.kill('SIGKILL')), options.timeoutMs ?? 110_000);
  try {
    return await Promise.all(
      children.map(
        (child, rank) =>
          new Promise<RankResult>((resolve) => {
            let stdout = '';
            let stderr = '';
            child.stdout.on('data', (d) => (stdout += d));
            child.stderr.on('data', (d) => (stderr += d));
            child.on('close', (code, signal) => {
              const line = stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
              let results: Record<string, unknown> | undefined;
              try {
                results = line ? (JSON.parse(line) as { results: Record<string, unknown> }).results : undefined;
              } catch {
                results = undefined;
              }
              resolve({ rank, code, signal, stdout, stderr, results, ms: Date.now() - started });
            });
          }),
      ),
    );
  } finally {
    clearTimeout(timer);
  }
}

/** Fails with every rank's output when a rank did not exit 0 with results. */
export function expectClean(results: RankResult[]): Record<string, unknown>[] {
  const bad = results.filter((r) => r.code !== 0 || !r.results);
  if (bad.length) {
    throw new Error(bad.map((r) => `rank ${r.rank}: exit ${r.code} ${r.signal ?? ''}\n${r.stderr.slice(-3000)}\n${r.stdout.slice(-1000)}`).join('\n---\n'));
  }
  return results.map((r) => r.results!);
}
