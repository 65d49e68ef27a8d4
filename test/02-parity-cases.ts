/**
 * The case runner shared by the 02-* parity tests. A fixture written by scripts/fixtures/gen_tensor_*.py holds
 * named `inputs` and `cases`; each case names its inputs, PyTorch's output(s) and, when the output is
 * differentiable, the gradient of every floating input for the loss sum(out_i · g_i) with the upstream gradient
 * g_i = linspace(-1, 1, numel).reshape(out_i.shape). The test supplies the same case names as functions.
 */
import { expect, it } from 'vitest';

import * as torch from '../lib/index';
import { Tensor, ValuesIndices, isFloatingPoint } from '../lib/index';
import { expectTensor, fromJson, type TensorJson } from './helpers';

/** One case as the generators write it. */
export interface CaseJson {
  args: string[];
  out: TensorJson | TensorJson[];
  grads?: Record<string, TensorJson>;
}

/** A parity fixture: named inputs and cases. */
export interface CasesFixture {
  inputs: Record<string, TensorJson>;
  cases: Record<string, CaseJson>;
}

/** What a case function may return: one tensor, several, or a `{values, indices}` pair. */
export type CaseResult = Tensor | Tensor[] | ValuesIndices;
/** The TS side of a case: receives the inputs named by the fixture, in order. */
export type CaseFn = (...inputs: Tensor[]) => CaseResult;
/** A tolerance for one case (with the reason in a comment where it is declared). */
export type Tolerance = { rtol?: number; atol?: number };

/** The upstream gradient the generators use: linspace(-1, 1, numel) in the output's dtype and shape. */
export function upstream(out: Tensor): Tensor {
  return torch.linspace(-1, 1, out.numel(), { dtype: out.dtype }).reshape(out.shape);
}

function outputs(r: CaseResult): Tensor[] {
  if (r instanceof Tensor) return [r];
  if (r instanceof ValuesIndices) return [r.values, r.indices];
  return r;
}

/** Runs one case: compares outputs and input gradients with the fixture. */
export function runCase(fx: CasesFixture, name: string, fn: CaseFn, tol: Tolerance = {}, gradTol: Tolerance = tol): void {
  const c = fx.cases[name];
  const inputs = c.args.map((a) => fromJson(fx.inputs[a], { requiresGrad: isFloatingPoint(fx.inputs[a].dtype) }));
  const result = fn(...inputs);
  const outs = outputs(result);
  const expected = Array.isArray(c.out) ? c.out : [c.out];
  expect(Array.isArray(c.out) || outs.length === 1, 'single tensor expected').toBe(true);
  expect(outs.length).toBe(expected.length);
  outs.forEach((o, i) => expectTensor(o, expected[i], tol));
  const diff = outs.filter((o) => o.requiresGrad);
  expect(diff.length > 0, 'differentiable output').toBe(c.grads !== undefined);
  if (c.grads === undefined) return;
  let loss: Tensor | null = null;
  for (const o of diff) {
    const term = o.mul(upstream(o)).sum();
    loss = loss === null ? term : loss.add(term);
  }
  loss!.backward();
  const names = new Set(Object.keys(c.grads));
  c.args.forEach((a, i) => {
    const g = inputs[i].grad;
    if (names.has(a)) {
      expect(g, `gradient of ${a}`).not.toBeNull();
      expectTensor(g!, c.grads![a], gradTol);
    } else {
      expect(g, `gradient of ${a}`).toBeNull();
    }
  });
}

/**
 * Registers one `it` per case, plus one that checks the TS table and the fixture name the same cases.
 * `tolerances` maps case names to a tolerance (default: equal to the bit); `failing` maps case names to the reason
 * they are expected to fail (a native bug), registered with `it.fails`.
 */
export function parityCases(
  fx: CasesFixture,
  fns: Record<string, CaseFn>,
  options: { tolerances?: Record<string, Tolerance>; failing?: Record<string, string> } = {},
): void {
  it('covers exactly the fixture cases', () => {
    expect(Object.keys(fns).sort()).toEqual(Object.keys(fx.cases).sort());
  });
  for (const [name, fn] of Object.entries(fns)) {
    if (!(name in fx.cases)) continue;
    const tol = options.tolerances?.[name];
    const reason = options.failing?.[name];
    const title = `${name} matches PyTorch${tol ? ` (within rtol ${tol.rtol ?? 0}, atol ${tol.atol ?? 0})` : ' to the bit'}`;
    if (reason) it.fails(`${title} [native bug: ${reason}]`, () => runCase(fx, name, fn, tol));
    else it(title, () => runCase(fx, name, fn, tol));
  }
}
