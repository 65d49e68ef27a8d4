/**
 * torchkd's port of Intel Distiller's policy/schedule framework for knowledge distillation: scheduled training
 * policies, the compression scheduler that drives them, the KD loss weights and the `--kd-*` command-line helper;
 * beyond Distiller, feature capture by module name, feature-distillation policies and losses (FitNets, attention
 * transfer, relational KD, cosine, MSE/L1), multi-teacher KD and the teacher-logit cache (dense or top-k).
 *
 * @example
 * import { distiller } from 'torchkd';
 * const scheduler = new distiller.CompressionScheduler(model);
 */
export { PolicyLoss, LossComponent, ScheduledTrainingPolicy } from './policy';
export type { PolicyMeta, PolicyState, HookKwargs, ZerosMaskDict, JsonValue } from './policy';
export { CompressionScheduler } from './scheduler';
export type {
  PolicySchedule,
  CompressionSchedulerOptions,
  BeforeBackwardPassOptions,
  ScheduleEntry,
  CompressionSchedulerState,
} from './scheduler';
export { DistillationLossWeights } from './loss-weights';
export type { DistillationLossWeightsConstructor } from './loss-weights';
export { addDistillationArgs, pythonTypes } from './args';
export type { DistillationArgs } from './args';
export { kdLoss, topkKdLoss } from './kd-loss';
export type { KdLossOptions } from './kd-loss';
export { KnowledgeDistillationPolicy } from './knowledge-distillation';
export type { KnowledgeDistillationOptions, KdForwardOptions, Model } from './knowledge-distillation';
export { TeacherCache } from './teacher-cache';
export type {
  TeacherCacheDtype,
  TeacherCacheBuildOptions,
  TeacherCacheOpenOptions,
  TeacherCacheManifest,
  TeacherCacheShard,
  TeacherFingerprint,
  DatasetFingerprint,
  TeacherTopK,
} from './teacher-cache';
export { createKdPolicyFromArgs, readTeacherCheckpoint } from './from-args';
export type { KdFromArgsOptions } from './from-args';
export { FeatureCapture } from './features';
export type { FeatureCaptureOptions } from './features';
export { fitnetsLoss, attentionMap, attentionTransferLoss, rkdDistanceLoss, rkdAngleLoss, cosineFeatureLoss, featureLoss } from './feature-losses';
export type { FeatureReduction, AttentionMode, FitNetsLossOptions, RkdLossOptions, FeatureLossOptions } from './feature-losses';
export {
  FeatureDistillationPolicy,
  FitNetsPolicy,
  AttentionTransferPolicy,
  RelationalKDPolicy,
  CosineFeaturePolicy,
  FeatureLossPolicy,
} from './feature-policies';
export type {
  FeaturePair,
  FeatureCriterion,
  FeatureTerm,
  FeatureDistillationOptions,
  FitNetsOptions,
  AttentionTransferOptions,
  RelationalKDOptions,
  CosineFeatureOptions,
  FeatureLossPolicyOptions,
} from './feature-policies';
export { MultiTeacherDistillationPolicy } from './multi-teacher';
export type { MultiTeacherMode, MultiTeacherOptions } from './multi-teacher';
