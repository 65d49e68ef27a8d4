/**
 * distiller.readTeacherCheckpoint and createKdPolicyFromArgs: teacher checkpoints in each form a Distiller run leaves
 * (a bare state dict, Distiller's {state_dict, arch, ...}, DataParallel's `module.` keys, a GPU run's file; Python's
 * files from scripts/fixtures/gen_nn.py, the others written here with torch.save), and the policy built from parsed
 * `--kd-*` arguments.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { afterAll, describe, expect, it, vi } from 'vitest';

import * as torch from '../lib/index';
import { CompressionScheduler, TorchError, distiller, models, nn, type Tensor } from '../lib/index';
import { expectError, fixture, thrown } from './helpers';

const FIXTURES = path.resolve(__dirname, 'fixtures');
const nnFx = fixture<{ py_mlp_small_state: { digests: Record<string, string> }; py_gpu_checkpoint: { digests: Record<string, string> } }>('nn');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'torchkd-from-args-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function digest(t: Tensor): string {
  const d = t.contiguous().data();
  return createHash('sha256').update(Buffer.from(d.buffer, d.byteOffset, d.byteLength)).digest('hex');
}

/** A teacher's weights, distinct per seed. */
function weights(seed: number): Record<string, Tensor> {
  torch.manualSeed(seed);
  return models.create('mlp_small_mnist').stateDict();
}

function saved(name: string, obj: unknown): string {
  const file = path.join(tmp, name);
  torch.save(obj as never, file);
  return file;
}

function expectSameWeights(got: Record<string, Tensor>, expected: Record<string, Tensor>): void {
  expect(Object.keys(got)).toEqual(Object.keys(expected));
  for (const [k, v] of Object.entries(expected)) expect(got[k].equal(v), k).toBe(true);
}

const prefixed = (sd: Record<string, Tensor>): Record<string, Tensor> =>
  Object.fromEntries(Object.entries(sd).map(([k, v]) => [`module.${k}`, v]));

describe('readTeacherCheckpoint', () => {
  it("reads Python's bare state dict", () => {
    const sd = distiller.readTeacherCheckpoint(path.join(FIXTURES, 'py_mlp_small_state.pt'));
    expect(Object.keys(sd)).toEqual(Object.keys(nnFx.py_mlp_small_state.digests));
    for (const [k, d] of Object.entries(nnFx.py_mlp_small_state.digests)) expect(digest(sd[k]), k).toBe(d);
  });

  it("reads the state_dict of Python's {state_dict, arch, ...} saved on a GPU, onto the CPU, and nothing else", () => {
    const sd = distiller.readTeacherCheckpoint(path.join(FIXTURES, 'py_gpu_checkpoint.pt'));
    expect(Object.keys(sd)).toEqual(Object.keys(nnFx.py_gpu_checkpoint.digests));
    for (const [k, d] of Object.entries(nnFx.py_gpu_checkpoint.digests)) {
      expect(sd[k].device).toBe('cpu');
      expect(digest(sd[k]), k).toBe(d);
    }
  });

  it('reads each form written by torch.save, dropping DataParallel’s module. prefixes', () => {
    const w = weights(1);
    expectSameWeights(distiller.readTeacherCheckpoint(saved('bare.pt', w)), w);
    expectSameWeights(distiller.readTeacherCheckpoint(saved('bare-dp.pt', prefixed(w))), w);
    expectSameWeights(distiller.readTeacherCheckpoint(saved('distiller.pt', { state_dict: w, arch: 'mlp_small_mnist', epoch: 7, best_top1: 91.5 })), w);
    expectSameWeights(distiller.readTeacherCheckpoint(saved('distiller-dp.pt', { arch: 'mlp_small_mnist', state_dict: prefixed(w) })), w);
  });

  it('keeps keys where module. is not a prefix, and skips entries that are not tensors', () => {
    const t = torch.arange(4, { dtype: 'float32' });
    const u = torch.ones(2);
    const sd = distiller.readTeacherCheckpoint(saved('mixed.pt', { 'features.module.weight': t, modules: u, version: 2, note: 'x' }));
    expect(Object.keys(sd)).toEqual(['features.module.weight', 'modules']);
    expect(sd['features.module.weight'].equal(t)).toBe(true);
    expect(sd.modules.equal(u)).toBe(true);
  });

  it('a file without tensors by name is a VALUE_ERROR naming the file', () => {
    for (const [name, obj] of [
      ['meta.pt', { arch: 'mlp_small_mnist', epoch: 3 }],
      ['empty-sd.pt', { state_dict: {}, arch: 'mlp_small_mnist' }],
      ['null-sd.pt', { state_dict: null }],
      ['none.pt', null],
      ['number.pt', 5],
      ['text.pt', 'weights'],
    ] as const) {
      const file = saved(name, obj);
      expectError(() => distiller.readTeacherCheckpoint(file), TorchError, `${file} holds no state dict (expected tensors by name, or {state_dict: ...})`);
      expect((thrown(() => distiller.readTeacherCheckpoint(file)) as TorchError).code).toBe('VALUE_ERROR');
    }
  });
});

describe('createKdPolicyFromArgs', () => {
  const base = { kd_teacher: 'mlp_small_mnist', kd_resume: '', kd_temp: 2, kd_distill_wt: 0.6, kd_student_wt: 0.4, kd_teacher_wt: 0, kd_start_epoch: 1 };

  it('without --kd-resume, the teacher keeps the weights createModel gave it', () => {
    const fresh = weights(2);
    const created: nn.Module[] = [];
    const createModel = (arch: string): nn.Module<[Tensor], Tensor> => {
      const m = models.create(arch);
      m.loadStateDict(fresh);
      created.push(m);
      return m as nn.Module<[Tensor], Tensor>;
    };
    const student = models.create('mlp_small_mnist');
    const scheduler = new CompressionScheduler<distiller.Model>(student);
    const made = distiller.createKdPolicyFromArgs(base, student, { createModel, scheduler, epochs: 4, policyOptions: { impl: 'composite' } })!;
    expect(created).toEqual([made.teacher]);
    expectSameWeights(made.teacher.stateDict(), fresh);
    expect(made.policy.teacher).toBe(made.teacher);
    expect(made.policy.student).toBe(student);
    expect([made.policy.temperature, [...made.policy.lossWts], made.policy.options.impl]).toEqual([2, [0.6, 0.4, 0], 'composite']);
    expect([...scheduler.policies.keys()]).toEqual([1, 2, 3]);
    expect(scheduler.schedMetadata.get(made.policy)).toEqual({ startingEpoch: 1, endingEpoch: 4, frequency: 1 });
  });

  it('with --kd-resume, the teacher holds the checkpoint’s weights in every form', () => {
    const w = weights(3);
    for (const [name, obj] of [['r-bare.pt', w], ['r-dp.pt', { state_dict: prefixed(w), arch: 'mlp_small_mnist' }]] as const) {
      const student = models.create('mlp_small_mnist');
      const made = distiller.createKdPolicyFromArgs({ ...base, kd_resume: saved(name, obj) }, student, {
        createModel: models.create, scheduler: new CompressionScheduler<distiller.Model>(student), epochs: 4, device: 'cpu',
      })!;
      expectSameWeights(made.teacher.stateDict(), w);
      expect(made.teacher.stateDict()['fc1.weight'].device).toBe('cpu');
    }
  });

  it('moves the teacher to options.device, whichever it is, and leaves it where createModel put it without one', () => {
    for (const device of ['cuda:0', 'cpu', undefined] as const) {
      const student = models.create('mlp_small_mnist');
      const teacher = models.create('mlp_small_mnist') as nn.Module<[Tensor], Tensor>;
      const to = vi.spyOn(teacher, 'to').mockReturnThis(); // records the move (no CUDA device is needed here)
      distiller.createKdPolicyFromArgs(base, student, { createModel: () => teacher, scheduler: new CompressionScheduler<distiller.Model>(student), epochs: 2, device });
      expect(to.mock.calls).toEqual(device === undefined ? [] : [[device]]);
    }
  });

  it('returns null, building nothing, without --kd-teacher', () => {
    const createModel = vi.fn(models.create);
    const student = models.create('mlp_small_mnist');
    const scheduler = new CompressionScheduler<distiller.Model>(student);
    expect(distiller.createKdPolicyFromArgs({ ...base, kd_teacher: null }, student, { createModel, scheduler, epochs: 2 })).toBeNull();
    expect(createModel).not.toHaveBeenCalled();
    expect(scheduler.policies.size).toBe(0);
  });
});
