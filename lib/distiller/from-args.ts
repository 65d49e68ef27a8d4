/**
 * Builds the KD policy and its schedule from parsed `--kd-*` arguments, as Distiller's compress_classifier did
 * inline: the teacher from `--kd-teacher ARCH`, its weights from `--kd-resume PATH` (a torchkd or Python checkpoint:
 * a plain state dict, or a Distiller-style `{state_dict: ...}`, with DataParallel's `module.` prefixes removed),
 * loss weights from `--kd-dw/--kd-sw/--kd-tw`, active from `--kd-start-epoch` to the last epoch.
 */
import type { Device } from '../dtype';
import { TorchError } from '../errors';
import { Module } from '../nn/module';
import { load } from '../serialization';
import { Tensor } from '../tensor';
import type { DistillationArgs } from './args';
import { KnowledgeDistillationOptions, KnowledgeDistillationPolicy, Model } from './knowledge-distillation';
import { DistillationLossWeights } from './loss-weights';
import type { CompressionScheduler } from './scheduler';

/** Reads a teacher checkpoint into a state dict (plain, or Distiller's {state_dict}; `module.` prefixes dropped). */
export function readTeacherCheckpoint(file: string, device?: Device): Record<string, Tensor> {
  // Straight to the teacher's device; a checkpoint saved from a GPU loads on the CPU when no device is named.
  const obj = load(file, { mapLocation: device ?? 'cpu' }) as Record<string, unknown>;
  const sd = (obj && typeof obj === 'object' && 'state_dict' in obj ? obj.state_dict : obj) as Record<string, unknown>;
  if (!sd || typeof sd !== 'object' || !Object.values(sd).some((v) => v instanceof Tensor)) {
    throw new TorchError(`${file} holds no state dict (expected tensors by name, or {state_dict: ...})`, 'VALUE_ERROR');
  }
  const out: Record<string, Tensor> = {};
  for (const [k, v] of Object.entries(sd)) if (v instanceof Tensor) out[k.startsWith('module.') ? k.slice(7) : k] = v;
  return out;
}

/** What {@link createKdPolicyFromArgs} needs beyond the parsed arguments. */
export interface KdFromArgsOptions {
  /** Builds a model by architecture name (e.g. `models.create`). */
  createModel: (arch: string) => Module<[Tensor], Tensor>;
  /** The scheduler to add the policy to. */
  scheduler: CompressionScheduler<Model>;
  /** Total epochs of the run: the policy stays active until the last one. */
  epochs: number;
  /** Device for the teacher (it is moved there, and --kd-resume weights load there); default: where createModel puts it. */
  device?: Device;
  /** Extra policy options. */
  policyOptions?: KnowledgeDistillationOptions;
}

/**
 * Returns the policy and the teacher, already added to the scheduler, or null when `--kd-teacher` was not given.
 *
 * @example
 * const kd = distiller.createKdPolicyFromArgs(args, student, { createModel: models.create, scheduler, epochs: args.epochs });
 */
export function createKdPolicyFromArgs(
  args: DistillationArgs,
  student: Model,
  options: KdFromArgsOptions,
): { policy: KnowledgeDistillationPolicy; teacher: Module<[Tensor], Tensor> } | null {
  if (!args.kd_teacher) return null;
  const teacher = options.createModel(args.kd_teacher);
  if (options.device) teacher.to(options.device); // wherever createModel built it
  if (args.kd_resume) teacher.loadStateDict(readTeacherCheckpoint(args.kd_resume, options.device));
  const weights = DistillationLossWeights(args.kd_distill_wt, args.kd_student_wt, args.kd_teacher_wt);
  const policy = new KnowledgeDistillationPolicy(student, teacher, args.kd_temp, weights, options.policyOptions);
  options.scheduler.addPolicy(policy, { startingEpoch: args.kd_start_epoch, endingEpoch: options.epochs, frequency: 1 });
  return { policy, teacher };
}
