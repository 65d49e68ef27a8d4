/**
 * The op specification is the one source of the native op functions and their TypeScript forms: the committed
 * generated files (native/generated/, lib/generated/, the source list) are what `npm run codegen` makes now, and every
 * op the specification names reaches the binding, the Tensor class and the torch / F / linalg namespaces.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

import * as torch from '../lib/index';
import { rawNative } from '../lib/binding';

const ROOT = path.resolve(__dirname, '..');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { loadSpec } = require('../scripts/codegen/generate.js') as { loadSpec(): { name: string; jsName: string; on: Set<string>; overloads: { native: string; params: { variants?: string[] }[]; on: Set<string> }[] }[] };

describe('op specification', () => {
  it('the generated files are current (npm run codegen --check)', () => {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'codegen', 'generate.js'), '--check'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  const ops = loadSpec();
  const binding = rawNative();
  const namespaces: Record<string, Record<string, unknown>> = {
    torch: torch as unknown as Record<string, unknown>,
    F: torch.F as unknown as Record<string, unknown>,
    linalg: torch.linalg as unknown as Record<string, unknown>,
  };

  it('every op reaches the native binding and each namespace it names', () => {
    const missing: string[] = [];
    const proto = torch.Tensor.prototype as unknown as Record<string, unknown>;
    for (const op of ops) {
      for (const ov of op.overloads) {
        const variants = ov.params.filter((p) => p.variants).length;
        const suffixes = variants === 0 ? [''] : variants === 1 ? ['_T', '_S'] : ['_TT', '_TS', '_ST', '_SS'];
        for (const s of suffixes) if (typeof binding[`${ov.native}${s}`] !== 'function') missing.push(`native ${ov.native}${s}`);
      }
      for (const form of op.on) {
        if (form === 'method') {
          if (typeof proto[op.name] !== 'function') missing.push(`Tensor.${op.name}`);
        } else if (typeof namespaces[form][op.name] !== 'function') {
          missing.push(`${form}.${op.name}`);
        }
      }
    }
    expect(missing).toEqual([]);
    expect(ops.length).toBeGreaterThan(250);
  });
});

// The generated op functions load `R.op_…`, `A.…` and `wrap` through module objects on every call. V8 folds those
// loads to constants only while the objects keep fast properties; a TypeScript re-export (a getter over a property
// first set to undefined) or an object of hundreds of properties added one by one turns one into a dictionary, and
// each load into a hash lookup (~80 ns of a ~1.1 µs op, lib/tensor/native.ts).
describe('the per-op path', () => {
  it('reads the binding and its helper modules through objects with fast properties', () => {
    const dist = path.join(ROOT, 'dist');
    const child = `const torch = require(${JSON.stringify(path.join(dist, 'index.js'))});
const m = (f) => require(${JSON.stringify(dist)} + '/' + f);
const objects = { R: m('tensor/native.js').R, N: m('tensor/native.js').N, native: m('tensor/native.js'), base: m('tensor/base.js'),
  args: m('tensor/args.js'), lifetime: m('tensor/lifetime.js'), generatedTensor: m('generated/tensor.js'), generatedTorch: m('generated/torch.js'),
  generatedFunctional: m('generated/functional.js'), tensorPrototype: torch.Tensor.prototype };
const out = {};
for (const [k, o] of Object.entries(objects)) out[k] = [Object.getOwnPropertyNames(o).length > 0, %HasFastProperties(o)];
process.stdout.write(JSON.stringify(out));`;
    const r = spawnSync(process.execPath, ['--allow-natives-syntax', '-e', child], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const got = JSON.parse(r.stdout) as Record<string, [boolean, boolean]>;
    const names = ['R', 'N', 'native', 'base', 'args', 'lifetime', 'generatedTensor', 'generatedTorch', 'generatedFunctional', 'tensorPrototype'];
    expect(got).toEqual(Object.fromEntries(names.map((k) => [k, [true, true]])));
  });
});
