/**
 * The distributed side of `torchkd train` (`--nproc-per-node N`, or a train command started by `torchkd run` /
 * torchrun, i.e. with WORLD_SIZE > 1 in the environment): the launch of the ranks (through `torchkd run`'s
 * launcher), and what each rank needs beyond the single-process loop.
 *
 * - Every rank joins a Gloo process group (env://, the collectives' timeout from --dist-timeout), trains the student
 *   wrapped in DistributedDataParallel on its share of each global batch (-b is the global batch: B/N per rank), and
 *   holds its own frozen copy of the teacher (no gradient sync). A teacher trained in the same run trains the same
 *   way, one phase before.
 * - The training set is split by a DistributedSampler over the training indices, seeded with --seed and setEpoch'd
 *   every epoch. Validation and test sets are sharded without padding (rank r takes samples r, r+N, …) and each
 *   rank's sums (cross entropy × samples, correct top-1/top-5, samples) are added over the ranks, so the reported
 *   top-1/top-5 are what one process would count over the whole set and the loss agrees up to float rounding.
 *   Before each evaluation rank 0's buffers are broadcast, so every rank evaluates the model rank 0 saves.
 * - Only rank 0 writes (args.json, checkpoints, best.pt, teacher.pt, metrics.jsonl, report.html). Decisions that
 *   depend on the run folder are made by rank 0 and broadcast ({@link DistRun.agree}), and a barrier follows the
 *   writes other ranks then read (teacher.pt).
 * - A stop (SIGINT/SIGTERM, which the launcher passes on to every rank) is agreed at each poll with an all-reduce
 *   (max) of the ranks' pending signals, so that every rank stops after the same step; rank 0 then saves a
 *   mid-epoch checkpoint holding every rank's running sums. Evaluation passes are not cut short in a distributed
 *   run (their shards may differ by one batch): a stop during one takes effect when the pass ends.
 * - Every rank is seeded alike and draws the same random numbers (the sampler's order comes from its own seeded
 *   generator; every rank's batches have the same shapes), so rank 0's random state in the checkpoint is every
 *   rank's.
 */
import { arange, tensor, zeros } from '../creation';
import { DistributedSampler } from '../data/distributed-sampler';
import type { Sampler } from '../data/sampler';
import { ReduceOp, allGather, allReduce, barrier, broadcast } from '../distributed/collectives';
import { destroyProcessGroup, initProcessGroup, isAvailable, isGlooAvailable } from '../distributed/process-group';
import type { Module } from '../nn/module';
import { DistributedDataParallel } from '../nn/parallel/distributed';
import { Tensor } from '../tensor';
import { freePort, launch } from './run';
import type { EpochProgress, EvalSums } from './trainer';
import { UsageError } from './usage-error';

/** This process's place in a job, from torchrun's environment (null outside a job of more than one rank). */
export interface RankEnv {
  rank: number;
  worldSize: number;
  localRank: number;
  localWorldSize: number;
}

/** The rank environment `torchkd run` or torchrun set (WORLD_SIZE > 1), or null for a single process. */
export function rankFromEnv(env: NodeJS.ProcessEnv = process.env): RankEnv | null {
  if (env.WORLD_SIZE === undefined || env.WORLD_SIZE === '') return null;
  const int = (name: string, dflt?: number): number => {
    const v = env[name];
    if ((v === undefined || v === '') && dflt !== undefined) return dflt;
    if (v === undefined || !/^\d+$/.test(v)) throw new UsageError(`torchkd train as a rank of a job: the environment variable ${name} must be a non-negative integer but is ${v === undefined ? 'not set' : `'${v}'`}`);
    return Number(v);
  };
  const worldSize = int('WORLD_SIZE');
  if (worldSize <= 1) return null;
  const rank = int('RANK');
  if (rank >= worldSize) throw new UsageError(`torchkd train as a rank of a job: RANK ${rank} is out of range for WORLD_SIZE ${worldSize}`);
  return { rank, worldSize, localRank: int('LOCAL_RANK', rank), localWorldSize: int('LOCAL_WORLD_SIZE', worldSize) };
}

/** Distributed training can run here: torch.distributed with the Gloo backend is in this build. */
export function checkDistributedAvailable(): void {
  if (!isAvailable() || !isGlooAvailable()) {
    throw new UsageError('--nproc-per-node: this torchkd build has no torch.distributed Gloo backend (built with TORCHKD_NO_DISTRIBUTED=1, or a libtorch without c10d)');
  }
}

/** Flattens a training epoch's running sums for the collectives. */
function packProgress(p: EpochProgress): number[] {
  return [p.step, p.seen, p.c1, p.c5, p.sums.objective, p.sums.overall, p.sums.distill, p.seconds];
}

function unpackProgress(v: ArrayLike<number>): EpochProgress {
  return { step: v[0], seen: v[1], c1: v[2], c5: v[3], sums: { objective: v[4], overall: v[5], distill: v[6] }, seconds: v[7] };
}

/**
 * One rank of a distributed `torchkd train` job: the process group and the collectives the training loop calls at
 * fixed points (every rank calls each of them in the same order).
 */
export class DistRun {
  readonly rank: number;
  readonly worldSize: number;
  readonly localRank: number;
  readonly localWorldSize: number;

  constructor(env: RankEnv) {
    this.rank = env.rank;
    this.worldSize = env.worldSize;
    this.localRank = env.localRank;
    this.localWorldSize = env.localWorldSize;
  }

  /** Joins the job's process group (env://); blocks until every rank has arrived or the timeout. */
  static init(env: RankEnv, timeoutSeconds: number): DistRun {
    checkDistributedAvailable();
    initProcessGroup({ backend: 'gloo', timeout: timeoutSeconds * 1000 });
    return new DistRun(env);
  }

  /** Whether this rank writes the run's files (rank 0). */
  get main(): boolean {
    return this.rank === 0;
  }

  /** Waits for every rank. */
  barrier(): void {
    barrier();
  }

  /** A barrier, then the process group is destroyed (the end of a job). */
  finish(): void {
    barrier();
    destroyProcessGroup();
  }

  /**
   * Rank 0 runs `fn` and every rank returns its result (sent as JSON), or throws its error: the other ranks throw a
   * UsageError with rank 0's message, so that a refused run ends on every rank instead of leaving some waiting.
   */
  agree<T>(fn: () => T): T {
    let payload = '';
    let error: unknown = null;
    if (this.main) {
      try {
        payload = JSON.stringify({ value: fn() ?? null });
      } catch (e) {
        error = e;
        payload = JSON.stringify({ error: (e as Error)?.message ?? String(e) });
      }
    }
    const got = JSON.parse(this.broadcastString(payload)) as { value?: T; error?: string };
    if (error !== null) throw error;
    if (got.error !== undefined) throw new UsageError(got.error);
    return got.value as T;
  }

  private broadcastString(s: string): string {
    const bytes = Buffer.from(s, 'utf8');
    const len = tensor([this.main ? bytes.length : 0], { dtype: 'int64' });
    broadcast(len, 0);
    const n = Number(len.item());
    len.dispose();
    const buf = this.main ? tensor(new Uint8Array(bytes), { dtype: 'uint8' }) : zeros([n], { dtype: 'uint8' });
    broadcast(buf, 0);
    const text = Buffer.from(buf.data() as Uint8Array).toString('utf8');
    buf.dispose();
    return text;
  }

  /** The signal every rank acts on: the largest pending one over the ranks (0 when none has one). */
  pollStop(local: number): number {
    const t = tensor([local], { dtype: 'int64' });
    allReduce(t, ReduceOp.MAX);
    const v = Number(t.item());
    t.dispose();
    return v;
  }

  private sum(values: number[]): Float64Array {
    const t = tensor(Float64Array.from(values), { dtype: 'float64' });
    allReduce(t);
    const out = Float64Array.from(t.data() as Float64Array);
    t.dispose();
    return out;
  }

  /** A training epoch's sums over the ranks (rank 0's step count and time). */
  sumProgress(p: EpochProgress): EpochProgress {
    const s = this.sum(packProgress(p));
    return { ...unpackProgress(s), step: p.step, seconds: p.seconds };
  }

  /** Every rank's training progress, in rank order (for a mid-epoch checkpoint). */
  gatherProgress(p: EpochProgress): EpochProgress[] {
    const mine = tensor(Float64Array.from(packProgress(p)), { dtype: 'float64' });
    const all = Array.from({ length: this.worldSize }, () => zeros([mine.size(0)], { dtype: 'float64' }));
    allGather(all, mine);
    const out = all.map((t) => unpackProgress(t.data() as Float64Array));
    for (const t of [mine, ...all]) t.dispose();
    return out;
  }

  /** An evaluation pass's sums over the ranks (rank 0's time). */
  sumEval(e: EvalSums): EvalSums {
    const s = this.sum([e.lossSum, e.c1, e.c5, e.seen]);
    return { lossSum: s[0], c1: s[1], c5: s[2], seen: s[3], seconds: e.seconds };
  }

  /** Rank 0's buffers (e.g. BatchNorm statistics) into every rank's copy of `model`. */
  syncBuffers(model: Module): void {
    for (const b of model.buffers()) broadcast(b, 0);
  }

  /** The student as this rank trains it: in DistributedDataParallel (rank 0's weights to every rank). */
  wrap(model: Module<[Tensor], Tensor>): Module<[Tensor], Tensor> {
    return new DistributedDataParallel(model) as unknown as Module<[Tensor], Tensor>;
  }
}

/**
 * This rank's share of a training set given by indices: a DistributedSampler (shuffled with `seed + epoch`, padded
 * to a multiple of the ranks, as PyTorch's) over the positions of `indices`, mapped to the indices.
 */
export class SubsetDistributedSampler implements Sampler {
  private readonly inner: DistributedSampler;

  constructor(
    readonly indices: Tensor,
    rank: number,
    worldSize: number,
    seed: number,
  ) {
    this.inner = new DistributedSampler(indices.size(0), { numReplicas: worldSize, rank, seed, shuffle: true });
  }

  get length(): number {
    return this.inner.length;
  }

  /** The epoch whose order the next pass takes. */
  setEpoch(epoch: number): void {
    this.inner.setEpoch(epoch);
  }

  order(): Tensor {
    const positions = this.inner.order();
    const out = this.indices.indexSelect(0, positions);
    positions.dispose();
    return out;
  }
}

/** Rank `rank`'s shard of an evaluation set of `n` samples: samples rank, rank + N, … (no padding, no duplicates). */
export class ShardSampler implements Sampler {
  readonly length: number;

  constructor(
    private readonly n: number,
    private readonly rank: number,
    private readonly worldSize: number,
  ) {
    this.length = n > rank ? Math.ceil((n - rank) / worldSize) : 0;
  }

  order(): Tensor {
    // (arange refuses a start past the end: a set smaller than the ranks leaves this one nothing.)
    return this.length === 0 ? zeros([0], { dtype: 'int64' }) : arange(this.rank, this.n, this.worldSize, { dtype: 'int64' });
  }
}

/** What {@link launchRanks} needs. */
export interface LaunchTrainOptions {
  /** The train command's arguments, passed to every rank (with `--out` added when the run chose its folder). */
  argv: string[];
  nproc: number;
  /** The store's port; a free one when null. */
  masterPort: number | null;
  /** Seconds: the collectives' timeout, also how long a stopped rank has to exit before SIGKILL. */
  timeout: number;
  /** The executable and arguments that run `torchkd train` (node and bin/torchkd.js, train). */
  command: [string, string[]];
}

/**
 * Starts the ranks of a distributed `torchkd train` with `torchkd run`'s launcher (torchrun's environment, output
 * prefixed `[rankN]:`, a failing rank named and the others stopped, SIGINT/SIGTERM passed on); resolves to the exit
 * code.
 */
export async function launchRanks(o: LaunchTrainOptions): Promise<number> {
  const port = o.masterPort ?? (await freePort());
  return launch({
    command: [o.command[0], [...o.command[1], ...o.argv]],
    nproc: o.nproc,
    masterPort: port,
    runId: `torchkd-train-${process.pid}`,
    termTimeout: o.timeout,
    name: 'torchkd train',
  });
}
