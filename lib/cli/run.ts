/**
 * `torchkd run`: torchrun for Node scripts. Starts `--nproc-per-node` copies of a script on this node with the
 * environment torch.distributed's env:// rendezvous reads (MASTER_ADDR, MASTER_PORT, RANK, LOCAL_RANK, WORLD_SIZE,
 * LOCAL_WORLD_SIZE, GROUP_RANK…, as torchrun sets them), prefixes each rank's output lines with `[rankN]:`, and when
 * a rank fails stops the others and exits non-zero, saying which rank failed and how. `launch()` is the part that
 * starts and watches the ranks, shared with `torchkd train --nproc-per-node`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

import { packageRoot } from '../loader';

const USAGE = `usage: torchkd run [--nproc-per-node N] [--nnodes M] [--node-rank R] [--master-addr A] [--master-port P]
                   [--standalone] [--no-node] [--term-timeout S] script [script args...]

Runs N copies of script on this node (node R of M) with torchrun's environment, so that
torch.distributed.initProcessGroup() (env://) joins them into one job of M×N ranks.

options:
  --nproc-per-node N   processes on this node: a number, 'cpu' (one per CPU), 'gpu' or 'auto' (one per CUDA
                       device, else one per CPU); default 1
  --nnodes M           nodes in the job (default 1)
  --node-rank R        this node's index, 0..M-1 (default 0)
  --master-addr A      address of rank 0's node, where its TCPStore listens (default 127.0.0.1)
  --master-port P      port of that store (default 29500)
  --standalone         a single-node job on a free port of 127.0.0.1
  --no-node            run script as an executable instead of with node (a .py script runs with the project's Python)
  --term-timeout S     seconds a stopped rank has to exit after SIGTERM before SIGKILL (default 5)

SIGINT or SIGTERM to the launcher is passed on to every rank (each runs in its own session, as under torchrun).`;

class UsageError extends Error {}

interface RunOptions {
  nprocPerNode: string;
  nnodes: number;
  nodeRank: number;
  masterAddr: string;
  masterPort: number | null;
  standalone: boolean;
  noNode: boolean;
  termTimeout: number;
  script: string;
  args: string[];
}

const VALUED = ['nproc-per-node', 'nnodes', 'node-rank', 'master-addr', 'master-port', 'term-timeout'];
const FLAGS = ['standalone', 'no-node'];

/** torchrun's command line: options (either `--a-b` or `--a_b`, `--x v` or `--x=v`) up to the script. */
function parse(argv: string[]): RunOptions | 'help' {
  const values = new Map<string, string>();
  const flags = new Set<string>();
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-h' || a === '--help') return 'help';
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('--')) break;
    const eq = a.indexOf('=');
    const name = (eq >= 0 ? a.slice(2, eq) : a.slice(2)).replace(/_/g, '-');
    if (FLAGS.includes(name)) {
      if (eq >= 0) throw new UsageError(`--${name} takes no value`);
      flags.add(name);
    } else if (VALUED.includes(name)) {
      const v = eq >= 0 ? a.slice(eq + 1) : argv[++i];
      if (v === undefined) throw new UsageError(`--${name} needs a value`);
      values.set(name, v);
    } else {
      throw new UsageError(`unknown option ${a.slice(0, eq >= 0 ? eq : undefined)}`);
    }
  }
  if (i >= argv.length) throw new UsageError('the script to run is missing');
  const int = (name: string, dflt: number, min: number): number => {
    const v = values.get(name);
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!/^\d+$/.test(v) || n < min) throw new UsageError(`--${name} must be an integer >= ${min} but is '${v}'`);
    return n;
  };
  const nnodes = int('nnodes', 1, 1);
  const nodeRank = int('node-rank', 0, 0);
  if (nodeRank >= nnodes) throw new UsageError(`--node-rank ${nodeRank} is out of range for --nnodes ${nnodes}`);
  const standalone = flags.has('standalone');
  if (standalone && nnodes !== 1) throw new UsageError('--standalone is for a single-node job (--nnodes 1)');
  const port = values.has('master-port') ? int('master-port', 0, 0) : null;
  if (port !== null && port > 65535) throw new UsageError(`--master-port must be a port number (0-65535) but is ${port}`);
  const termTimeout = Number(values.get('term-timeout') ?? '5');
  if (!(termTimeout >= 0) || !Number.isFinite(termTimeout)) throw new UsageError(`--term-timeout must be a number of seconds but is '${values.get('term-timeout')}'`);
  return {
    nprocPerNode: values.get('nproc-per-node') ?? '1',
    nnodes,
    nodeRank,
    masterAddr: values.get('master-addr') ?? '127.0.0.1',
    masterPort: port,
    standalone,
    noNode: flags.has('no-node'),
    termTimeout,
    script: argv[i],
    args: argv.slice(i + 1),
  };
}

/** --nproc-per-node as a count: a positive integer, or 'cpu', 'gpu', 'auto' as torchrun reads them. */
async function procsPerNode(v: string): Promise<number> {
  if (/^\d+$/.test(v) && Number(v) > 0) return Number(v);
  if (v === 'cpu') return os.cpus().length;
  if (v === 'gpu' || v === 'auto') {
    const { cuda } = await import('../cuda');
    const n = cuda.isAvailable() ? cuda.deviceCount() : 0;
    if (n > 0) return n;
    if (v === 'gpu') throw new UsageError("--nproc-per-node gpu: no CUDA device is usable");
    return os.cpus().length;
  }
  throw new UsageError(`--nproc-per-node must be a positive integer, 'cpu', 'gpu' or 'auto' but is '${v}'`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** The command line of one rank. */
function commandFor(o: RunOptions): [string, string[]] {
  if (o.script.endsWith('.py') && !o.noNode) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const python = process.env.TORCHKD_PYTHON ?? (require(path.join(packageRoot(), 'lib', 'libtorch.js')).discover().python as string | null);
    if (!python) throw new UsageError(`no Python with torch found to run ${o.script}: set TORCHKD_PYTHON`);
    return [python, ['-u', o.script, ...o.args]];
  }
  return o.noNode ? [o.script, o.args] : [process.execPath, [o.script, ...o.args]];
}

/** Copies a stream to `out` line by line, each line prefixed; returns the last lines seen (for the failure report). */
function prefixed(stream: NodeJS.ReadableStream, out: NodeJS.WritableStream, prefix: string, tail: string[]): Promise<void> {
  return new Promise((resolve) => {
    let pending = '';
    const emit = (line: string): void => {
      out.write(`${prefix}${line}\n`);
      tail.push(line);
      if (tail.length > 20) tail.shift();
    };
    stream.setEncoding?.('utf8');
    stream.on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const l of lines) emit(l);
    });
    stream.on('end', () => {
      if (pending) emit(pending);
      resolve();
    });
  });
}

interface Ended {
  rank: number;
  localRank: number;
  pid: number | undefined;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Stopped by the launcher after another rank failed (or on SIGINT/SIGTERM). */
  stopped: boolean;
  stderrTail: string[];
}

/** `torchkd run …`: resolves to the exit code (0 when every rank exits 0). */
export async function runCommand(argv: string[]): Promise<number> {
  let o: RunOptions | 'help';
  try {
    o = parse(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`torchkd run: ${e.message}\n\n${USAGE}`);
      return 2;
    }
    throw e;
  }
  if (o === 'help') {
    console.log(USAGE);
    return 0;
  }
  let nproc: number;
  let cmd: [string, string[]];
  try {
    nproc = await procsPerNode(o.nprocPerNode);
    cmd = commandFor(o);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`torchkd run: ${e.message}\n\n${USAGE}`);
      return 2;
    }
    throw e;
  }
  const port = o.standalone ? (o.masterPort ?? (await freePort())) : (o.masterPort ?? 29500);
  return launch({
    command: cmd,
    nproc,
    nnodes: o.nnodes,
    nodeRank: o.nodeRank,
    masterAddr: o.standalone ? '127.0.0.1' : o.masterAddr,
    masterPort: port,
    runId: o.standalone ? `torchkd-${process.pid}` : 'none',
    termTimeout: o.termTimeout,
  });
}

/** What {@link launch} starts: `nproc` copies of `command` on node `nodeRank` of `nnodes`. */
export interface LaunchOptions {
  /** Each rank's executable and arguments. */
  command: [string, string[]];
  nproc: number;
  nnodes?: number;
  nodeRank?: number;
  masterAddr?: string;
  masterPort: number;
  /** TORCHELASTIC_RUN_ID (default 'none'). */
  runId?: string;
  /** Seconds a stopped rank has to exit after its signal before SIGKILL. */
  termTimeout: number;
  /** The name the launcher's own messages start with (default 'torchkd run'). */
  name?: string;
}

/** A free port on 127.0.0.1 (for a single-node job without a given master port). */
export { freePort };

/**
 * Starts the ranks with torchrun's environment and waits for them: resolves to 0 when every rank exits 0, 1 when one
 * fails (the others are stopped with SIGTERM, then SIGKILL after termTimeout, and the failed rank is named), and
 * 128 + the signal's number when the launcher itself gets SIGINT or SIGTERM. As torchrun, each rank runs in its own
 * session (a Ctrl-C in the terminal reaches the launcher only) and the launcher passes the signal it got on to every
 * rank once, so that a rank that finishes its step on SIGINT sees exactly one.
 */
export async function launch(o: LaunchOptions): Promise<number> {
  const name = o.name ?? 'torchkd run';
  const nnodes = o.nnodes ?? 1;
  const nodeRank = o.nodeRank ?? 0;
  const nproc = o.nproc;
  const cmd = o.command;
  const world = nnodes * nproc;
  const baseEnv: Record<string, string> = {
    MASTER_ADDR: o.masterAddr ?? '127.0.0.1',
    MASTER_PORT: String(o.masterPort),
    WORLD_SIZE: String(world),
    LOCAL_WORLD_SIZE: String(nproc),
    GROUP_RANK: String(nodeRank),
    GROUP_WORLD_SIZE: String(nnodes),
    ROLE_NAME: 'default',
    ROLE_WORLD_SIZE: String(world),
    TORCHELASTIC_RUN_ID: o.runId ?? 'none',
    TORCHELASTIC_RESTART_COUNT: '0',
    TORCHELASTIC_MAX_RESTARTS: '0',
    // The launcher hosts no store: rank 0's process serves it (Python's env:// rendezvous reads this).
    TORCHELASTIC_USE_AGENT_STORE: 'False',
  };
  // As torchrun: several processes on one node each get one OpenMP thread unless told otherwise.
  if (nproc > 1 && process.env.OMP_NUM_THREADS === undefined) {
    baseEnv.OMP_NUM_THREADS = '1';
    console.error(`${name}: OMP_NUM_THREADS set to 1 for each of the ${nproc} processes (set it yourself to override)`);
  }

  const ended: Ended[] = [];
  const children: ChildProcess[] = [];
  let failed: Ended | null = null;
  let stopping = false;
  let received: NodeJS.Signals | null = null;
  let killTimer: NodeJS.Timeout | null = null;
  const signalAll = (sig: NodeJS.Signals): void => {
    for (const c of children) {
      if (c.exitCode !== null || c.signalCode !== null || c.pid === undefined) continue;
      try {
        process.kill(-c.pid, sig); // the rank's process group (its session), as torchrun's os.killpg
      } catch {
        c.kill(sig);
      }
    }
  };
  const stopAll = (sig: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    signalAll(sig);
    killTimer = setTimeout(() => signalAll('SIGKILL'), o.termTimeout * 1000);
    killTimer.unref();
  };
  const onSignal = (sig: NodeJS.Signals): void => {
    if (stopping) {
      // A second signal: passed on too (a rank that traps the first exits at once on the second).
      signalAll(sig);
      return;
    }
    received = sig;
    console.error(`${name}: ${sig} received, stopping the ranks`);
    stopAll(sig);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const done = Array.from({ length: nproc }, (_, localRank) => {
    const rank = nodeRank * nproc + localRank;
    const env = { ...process.env, ...baseEnv, RANK: String(rank), LOCAL_RANK: String(localRank), ROLE_RANK: String(rank) };
    const child = spawn(cmd[0], cmd[1], { env, stdio: ['inherit', 'pipe', 'pipe'], detached: true });
    children.push(child);
    const tail: string[] = [];
    const streams = Promise.all([prefixed(child.stdout!, process.stdout, `[rank${rank}]:`, []), prefixed(child.stderr!, process.stderr, `[rank${rank}]:`, tail)]);
    return new Promise<void>((resolve) => {
      let spawnError: Error | null = null;
      child.on('error', (e) => (spawnError = e));
      child.on('close', (code, signal) => {
        void streams.then(() => {
          if (spawnError) tail.push(spawnError.message);
          const e: Ended = { rank, localRank, pid: child.pid, code, signal, stopped: stopping && failed !== null, stderrTail: tail };
          ended.push(e);
          if ((code !== 0 || signal !== null) && !stopping) {
            failed = e;
            stopAll('SIGTERM');
          }
          resolve();
        });
      });
    });
  });
  await Promise.all(done);
  if (killTimer) clearTimeout(killTimer);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);

  const f = failed as Ended | null;
  if (f) {
    const how = f.signal ? `was killed by signal ${f.signal}` : `exited with code ${f.code}`;
    const last = f.stderrTail.filter((l) => l.trim() !== '').slice(-5);
    console.error(`${name}: rank ${f.rank} (local rank ${f.localRank}, pid ${f.pid}) failed: it ${how}; the other ranks were stopped`);
    if (last.length) console.error(`  its last error output:\n${last.map((l) => `    ${l}`).join('\n')}`);
    return 1;
  }
  if (received !== null) return 128 + (os.constants.signals[received as NodeJS.Signals] ?? 2);
  const bad = ended.filter((e) => e.code !== 0);
  return bad.length ? 1 : 0;
}
