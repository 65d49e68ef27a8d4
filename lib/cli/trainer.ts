/**
 * The training loop of `torchkd train`, in the order of Distiller's compress_classifier (apputils/image_classifier.py):
 * onEpochBegin → per minibatch onMinibatchBegin, policy.forward, criterion ('Objective Loss'), beforeBackwardPass
 * with components ('Overall Loss', 'Distill Loss'), zeroGrad, backward, beforeParameterOptimization, step,
 * onMinibatchEnd → validate → onEpochEnd.
 */
import { GradScaler, autocast } from '../amp';
import { CompressionScheduler } from '../distiller/scheduler';
import type { KnowledgeDistillationPolicy, Model } from '../distiller/knowledge-distillation';
import type { DataLoader } from '../data/dataloader';
import * as F from '../functional';
import { noGrad } from '../autograd';
import type { Module } from '../nn/module';
import type { Optimizer } from '../optim/optimizer';
import { Tensor, tidy } from '../tensor';
import type { MetricsRow } from './report';
import { faultPoint } from '../fault';

/** Loss and top-k accuracy of one pass. */
export interface PassResult {
  loss: number;
  top1: number;
  top5: number;
  seconds: number;
  overallLoss?: number;
  objectiveLoss?: number;
  distillLoss?: number;
}

/** Counts correct top-1 and top-5 predictions of a batch (top-5 capped at the class count). */
export function topkCorrect(logits: Tensor, labels: Tensor): [number, number] {
  return tidy(() => {
    const k = Math.min(5, logits.size(1));
    const idx = logits.topk(k, 1, true, true).indices;
    const hits = idx.eq(labels.unsqueeze(1));
    const top1 = hits.narrow(1, 0, 1).sum().item() as number;
    const top5 = hits.sum().item() as number;
    return [top1, top5];
  });
}

/** Mixed precision of a run (`--amp`): autocast on the device type, and for float16 a loss scaler. */
export interface AmpSetup {
  deviceType: 'cpu' | 'cuda';
  dtype: 'bfloat16' | 'float16';
  scaler: GradScaler | null;
}

function inRegion<T>(amp: AmpSetup | null | undefined, fn: () => T): T {
  return amp ? autocast(amp.deviceType, { dtype: amp.dtype }, fn) : fn();
}

/** Progress of a pass: called after each minibatch with the running averages. */
export type ProgressFn = (done: number, total: number, running: Record<string, number>) => void;

/** Where a training epoch stands: the steps done and the running sums of its metrics (saved mid-epoch). */
export interface EpochProgress {
  step: number;
  seen: number;
  c1: number;
  c5: number;
  sums: { objective: number; overall: number; distill: number };
  seconds: number;
}

/** What {@link trainEpoch} returns: the pass's result, where it stood, and whether it stopped early. */
export interface EpochOutcome {
  result: PassResult;
  progress: EpochProgress;
  stopped: boolean;
}

/**
 * One training epoch (Distiller's train()). `start` continues an epoch interrupted after `start.step` steps: the
 * loader is iterated from its beginning (the caller restored the random state the epoch's order was drawn with), the
 * steps already done are skipped, then `resumeRng` (the state at the interruption) is restored and training goes on
 * (an interrupted epoch has done at least one step: `stop` is polled after each).
 * `stop` is polled after each step; when it says so, the epoch ends there (`stopped`).
 */
export function trainEpoch(args: {
  epoch: number;
  model: Module<[Tensor], Tensor>;
  /** Batches `[x, y]`, or `[x, y, indices]` (an IndexedDataset's) for a policy reading a teacher-logit cache. */
  loader: DataLoader<[Tensor, Tensor, ...Tensor[]]>;
  optimizer: Optimizer;
  scheduler: CompressionScheduler<Model>;
  policy: KnowledgeDistillationPolicy | null;
  device: string;
  amp?: AmpSetup | null;
  progress?: ProgressFn;
  start?: EpochProgress | null;
  resumeRng?: () => void;
  stop?: () => boolean;
}): EpochOutcome {
  const { epoch, model, loader, optimizer, scheduler, policy, progress, amp } = args;
  const scaler = amp?.scaler ?? null;
  const steps = loader.length;
  const start = args.start ?? null;
  const t0 = Date.now() - (start ? start.seconds * 1000 : 0);
  let seen = start?.seen ?? 0;
  let c1 = start?.c1 ?? 0;
  let c5 = start?.c5 ?? 0;
  const sums = start ? { ...start.sums } : { objective: 0, overall: 0, distill: 0 };
  model.train();
  let step = 0;
  let stopped = false;
  for (const [x0, y0, i0] of loader) {
    if (start && step < start.step) {
      // Done before the interruption: the batch is drawn (the order stays the uninterrupted run's) but not used.
      x0.dispose();
      y0.dispose();
      i0?.dispose();
      step++;
      if (step === start.step) args.resumeRng?.();
      continue;
    }
    tidy(() => {
      const x = toDevice(x0, args.device);
      const y = toDevice(y0, args.device);
      scheduler.onMinibatchBegin(epoch, step, steps, optimizer);
      // Forward and losses in the autocast region (--amp), backward and the step outside it, as PyTorch recommends.
      const [output, loss, pl] = inRegion(amp, () => {
        const out = policy ? (i0 ? policy.forward(x, { indices: i0 }) : policy.forward(x)) : model.call(x);
        const objective = F.crossEntropy(out, y);
        return [out, objective, scheduler.beforeBackwardPass(epoch, step, steps, objective, { optimizer, returnLossComponents: true, labels: y })] as const;
      });
      optimizer.zeroGrad();
      if (scaler) {
        scaler.scale(pl.overallLoss).backward();
        scaler.unscale_(optimizer); // policies see the true gradients
      } else {
        pl.overallLoss.backward();
      }
      scheduler.beforeParameterOptimization(epoch, step, steps, optimizer);
      if (scaler) {
        scaler.step(optimizer); // skipped when a gradient is inf/NaN
        scaler.update();
      } else {
        optimizer.step();
      }
      scheduler.onMinibatchEnd(epoch, step, steps, optimizer);
      const n = y.size(0);
      const [a, b] = topkCorrect(output.detach(), y);
      c1 += a;
      c5 += b;
      seen += n;
      sums.objective += (loss.item() as number) * n;
      sums.overall += (pl.overallLoss.item() as number) * n;
      const d = pl.lossComponents.find((c) => c.name === 'Distill Loss');
      if (d) sums.distill += (d.value.item() as number) * n;
    });
    x0.dispose();
    y0.dispose();
    i0?.dispose();
    step++;
    progress?.(step, steps, { 'Overall Loss': sums.overall / seen, 'Objective Loss': sums.objective / seen, Top1: (100 * c1) / seen });
    faultPoint('step');
    if (step < steps && args.stop?.()) {
      stopped = true;
      break;
    }
  }
  const progressNow: EpochProgress = { step, seen, c1, c5, sums: { ...sums }, seconds: (Date.now() - t0) / 1000 };
  return { result: passResult(progressNow, policy?.active ?? false), progress: progressNow, stopped };
}

/**
 * A training pass's result from its running sums (for a distributed run, the sums over the ranks); the loss
 * components when distillation ran.
 */
export function passResult(p: EpochProgress, kdActive: boolean): PassResult {
  const { seen, c1, c5, sums } = p;
  return {
    loss: sums.overall / seen,
    top1: (100 * c1) / seen,
    top5: (100 * c5) / seen,
    seconds: p.seconds,
    ...(kdActive || sums.distill > 0 ? { overallLoss: sums.overall / seen, objectiveLoss: sums.objective / seen, distillLoss: sums.distill / seen } : {}),
  };
}

// A batch on the training device; asynchronous from a pinned batch (the host copy stays valid until the GPU is done
// with it: libtorch's pinned-memory allocator records the copy's stream before it reuses the block).
function toDevice(t: Tensor, device: string): Tensor {
  return device === 'cpu' ? t : t.to(device as 'cuda', { nonBlocking: true });
}

/** The sums of an evaluation pass: summed per-sample cross entropy, correct top-1 and top-5, samples seen. */
export interface EvalSums {
  lossSum: number;
  c1: number;
  c5: number;
  seen: number;
  seconds: number;
}

/**
 * Evaluates a model (no autograd, eval mode): mean cross entropy and top-1/top-5. `stop` is polled after each batch;
 * when it says so the pass is abandoned and null returned.
 */
export function evaluate(model: Module<[Tensor], Tensor>, loader: DataLoader<[Tensor, Tensor]>, device: string, progress?: ProgressFn, amp?: AmpSetup | null): PassResult;
export function evaluate(model: Module<[Tensor], Tensor>, loader: DataLoader<[Tensor, Tensor]>, device: string, progress: ProgressFn | undefined, amp: AmpSetup | null | undefined, stop: () => boolean): PassResult | null;
export function evaluate(model: Module<[Tensor], Tensor>, loader: DataLoader<[Tensor, Tensor]>, device: string, progress?: ProgressFn, amp?: AmpSetup | null, stop?: () => boolean): PassResult | null {
  const sums = evaluateSums(model, loader, device, progress, amp, stop);
  return sums === null ? null : evalResult(sums);
}

/** The sums behind {@link evaluate} (a distributed run adds them over the ranks before averaging). */
export function evaluateSums(model: Module<[Tensor], Tensor>, loader: DataLoader<[Tensor, Tensor]>, device: string, progress?: ProgressFn, amp?: AmpSetup | null, stop?: () => boolean): EvalSums | null {
  const t0 = Date.now();
  let seen = 0;
  let c1 = 0;
  let c5 = 0;
  let lossSum = 0;
  model.eval();
  let step = 0;
  for (const [x0, y0] of loader) {
    tidy(() =>
      noGrad(() => {
        const x = toDevice(x0, device);
        const y = toDevice(y0, device);
        const [out, loss] = inRegion(amp, () => {
          const o = model.call(x);
          return [o, F.crossEntropy(o, y)] as const;
        });
        const n = y.size(0);
        lossSum += (loss.item() as number) * n;
        const [a, b] = topkCorrect(out, y);
        c1 += a;
        c5 += b;
        seen += n;
      }),
    );
    x0.dispose();
    y0.dispose();
    step++;
    progress?.(step, loader.length, { Loss: lossSum / seen, Top1: (100 * c1) / seen });
    faultPoint('eval');
    if (stop?.()) return null;
  }
  return { lossSum, c1, c5, seen, seconds: (Date.now() - t0) / 1000 };
}

/** An evaluation pass's averages from its sums. */
export function evalResult(s: EvalSums): PassResult {
  return { loss: s.lossSum / s.seen, top1: (100 * s.c1) / s.seen, top5: (100 * s.c5) / s.seen, seconds: s.seconds };
}

/** A metrics.jsonl row from a pass. */
export function metricsRow(epoch: number, split: MetricsRow['split'], r: PassResult, lr: number): MetricsRow {
  return { epoch, split, loss: r.loss, top1: r.top1, top5: r.top5, lr, seconds: r.seconds, ...(r.overallLoss !== undefined ? { overallLoss: r.overallLoss, objectiveLoss: r.objectiveLoss, distillLoss: r.distillLoss } : {}) };
}
