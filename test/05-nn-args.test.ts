/**
 * torch.nn's argument checks and bookkeeping, word for word: every check of Module (Parameter, field assignment,
 * registration, traversal, getSubmodule/getParameter/getBuffer, stateDict/loadStateDict, train/eval, requiresGrad_,
 * zeroGrad, to/cuda, apply, the printout and toJSON), of the containers (Sequential, ModuleList, ModuleDict,
 * ParameterList, ParameterDict), of nn.utils' gradient clipping and of the full backward hooks rejects a bad value with
 * its error class and exact message, and each bound is checked on both sides. Where torchkd follows PyTorch (key
 * orders, named* prefixes, index semantics, clip_grad_norm_'s values, the printout) the expected values were taken from
 * the project venv's PyTorch and are marked as PyTorch's. (Fixture-driven parity of the same APIs is in 05-nn.test.ts,
 * 05-nn-containers.test.ts and 05-nn-hooks.test.ts.)
 */
import { describe, expect, it, vi } from 'vitest';

import * as torch from '../lib/index';
import { Tensor, TorchError, nn } from '../lib/index';
import { resetLinearLike } from '../lib/nn/init';
import { py, pyFloat } from '../lib/nn/layers/base';
import { HAS_CUDA, NEEDS_NO_CUDA, expectError, itWhen, thrown, type Rejection } from './helpers';


/** A module's properties, for assignments its type does not declare. */
const fields = (m: nn.Module): Record<string | symbol, unknown> => m as unknown as Record<string | symbol, unknown>;
/** The names of a named* iterator. */
const names = (it: Iterable<[string, unknown]>): string[] => [...it].map(([n]) => n);
/** Children as `name:Class`. */
const layout = (m: nn.Module): string[] => [...m.namedChildren()].map(([n, c]) => `${n}:${c.constructor.name}`);
const f32 = (v: number[]): Tensor => torch.tensor(v, { dtype: 'float32' });

class Net extends nn.Module {
  fc = new nn.Linear(2, 2);
  w = nn.Parameter(torch.ones(2));
}

/** A module whose child `a` is also registered as `b`, with a persistent and a non-persistent buffer. */
class Shared extends nn.Module {
  a = new nn.Linear(2, 2);
  b = this.a;
  w = nn.Parameter(torch.ones(1));
  constructor() {
    super();
    this.registerBuffer('buf', torch.zeros(1));
    this.registerBuffer('tmp', torch.zeros(1), { persistent: false });
  }
}

const mlp = (): nn.Sequential => new nn.Sequential(new nn.Linear(6, 8), new nn.ReLU(), new nn.Linear(8, 3));

// ---- Parameter and field assignment -------------------------------------------------------------------------------

describe('nn.Parameter and assignment to module fields', () => {
  const rejections: Rejection[] = [
    ['Parameter of a number', () => nn.Parameter(3 as never), TypeError, 'Parameter() expects a Tensor but received the number 3'],
    ['Parameter of an array', () => nn.Parameter([1] as never), TypeError, 'Parameter() expects a Tensor but received an array'],
    ['a number over a submodule', () => (fields(new Net()).fc = 3), TypeError, 'cannot assign the number 3 as Net.fc: it holds a submodule (assign a Module or null)'],
    // PyTorch: "cannot assign 'int' as buffer 'buf' (torch.Tensor or None expected)"
    ['a number over a buffer', () => (fields(new Shared()).buf = 3), TypeError, 'cannot assign the number 3 as Shared.buf: it holds a buffer (assign a Tensor or null)'],
    ['a plain tensor over a submodule', () => (fields(new Net()).fc = torch.ones(2)), TypeError, 'cannot assign an object (Tensor) as Net.fc: it holds a submodule (assign a Module or null)'],
    ['a string over a parameter', () => (fields(new Net()).w = 'x'), TypeError, 'cannot assign the string "x" as Net.w: it holds a parameter (assign a Parameter or null)'],
    [
      'an array of Modules',
      () => (fields(new Net()).arr = [new nn.ReLU()]),
      TypeError,
      'Net.arr: an array of Modules is not registered: assign an nn.ModuleList (new nn.ModuleList([...])) so that its modules and parameters are',
    ],
    [
      'an array of Parameters',
      () => (fields(new Net()).arr = [torch.ones(1), nn.Parameter(torch.ones(1))]),
      TypeError,
      'Net.arr: an array of Parameters is not registered: assign an nn.ParameterList (new nn.ParameterList([...]))',
    ],
    [
      'an object of Modules',
      () => (fields(new Net()).obj = { n: 1, a: new nn.ReLU() }),
      TypeError,
      'Net.obj: an object of Modules is not registered: assign an nn.ModuleDict (new nn.ModuleDict({...})) so that its modules and parameters are',
    ],
    [
      'an object of Parameters',
      () => (fields(new Net()).obj = { a: nn.Parameter(torch.ones(1)) }),
      TypeError,
      'Net.obj: an object of Parameters is not registered: assign an nn.ParameterDict (new nn.ParameterDict({...}))',
    ],
    [
      'a class field holding an array of Modules',
      () =>
        new (class Bad extends nn.Module {
          layers = [new nn.Linear(2, 2)];
        })(),
      TypeError,
      'Bad.layers: an array of Modules is not registered: assign an nn.ModuleList (new nn.ModuleList([...])) so that its modules and parameters are',
    ],
    ['forward of a bare Module', () => new nn.Module().forward(), TypeError, 'Module.forward() is not implemented'],
    ['call of a subclass without forward', () => new Net().call(torch.ones(2) as never), TypeError, 'Net.forward() is not implemented'],
  ];
  it.each(rejections)('%s is rejected', (_, fn, cls, message) => expectError(fn, cls, message));

  it('Parameter returns the same tensor, flagged, requiring grad unless told not to', () => {
    const t = torch.ones(2);
    expect(nn.isParameter(t)).toBe(false);
    expect(nn.Parameter(t)).toBe(t);
    expect([nn.isParameter(t), t.requiresGrad]).toEqual([true, true]);
    const frozen = nn.Parameter(torch.ones(2), false);
    expect([nn.isParameter(frozen), frozen.requiresGrad]).toEqual([true, false]);
    expect(nn.isParameter(3)).toBe(false);
  });

  it('a Module assigned over a parameter or a buffer replaces it; a Parameter over a submodule or a buffer likewise', () => {
    const n = new Net();
    n.registerBuffer('buf', torch.zeros(1));
    fields(n).w = new nn.ReLU();
    fields(n).buf = new nn.Tanh();
    expect(layout(n)).toEqual(['fc:Linear', 'w:ReLU', 'buf:Tanh']);
    expect(Object.keys(n.stateDict())).toEqual(['fc.weight', 'fc.bias']);
    const m = new Net();
    m.registerBuffer('buf', torch.zeros(1));
    fields(m).fc = nn.Parameter(torch.zeros(3));
    fields(m).buf = nn.Parameter(torch.zeros(1));
    expect(layout(m)).toEqual([]);
    expect(names(m.namedParameters())).toEqual(['w', 'fc', 'buf']);
    expect(names(m.namedBuffers())).toEqual([]);
  });

  it('a tensor assigned to a buffer name replaces the buffer; to a parameter name it becomes that Parameter', () => {
    const n = new Net();
    n.registerBuffer('buf', torch.zeros(2));
    const t = torch.full([2], 7, { dtype: 'float32' });
    fields(n).buf = t;
    expect(n.getBuffer('buf')).toBe(t);
    expect(nn.isParameter(t)).toBe(false);
    // (PyTorch refuses a plain tensor over a parameter; torchkd registers it as the Parameter, keeping its requiresGrad.)
    const plain = torch.zeros(2);
    fields(n).w = plain;
    expect(n.getParameter('w')).toBe(plain);
    expect([nn.isParameter(plain), plain.requiresGrad]).toEqual([true, false]);
  });

  it('null assigned to a submodule, a parameter or a buffer keeps the name without a value', () => {
    const n = new Net();
    n.registerBuffer('buf', torch.zeros(1));
    fields(n).fc = null;
    fields(n).w = null;
    fields(n).buf = null;
    expect(n.stateDict()).toEqual({});
    expect(layout(n)).toEqual([]);
    expect(String(n)).toBe('Net(\n  (fc): None\n)');
    expectError(() => n.getSubmodule('fc'), TorchError, '`fc` is not an nn.Module (it is null)');
    expectError(() => n.getParameter('w'), TorchError, '`w` is not an nn.Parameter of Net');
    expectError(() => n.getBuffer('buf'), TorchError, '`buf` is not a buffer of Net');
    // The names stay: a module, a parameter and a buffer can be assigned again.
    fields(n).fc = new nn.ReLU();
    fields(n).w = nn.Parameter(torch.zeros(1));
    fields(n).buf = torch.ones(1);
    expect(Object.keys(n.stateDict())).toEqual(['w', 'buf']);
    expect(layout(n)).toEqual(['fc:ReLU']);
  });

  it('underscored names, symbols, Maps, arrays of plain values and objects of plain values are ordinary fields', () => {
    const n = new Net();
    const f = fields(n);
    f._hidden = [new nn.ReLU()];
    f[Symbol.for('s')] = new nn.ReLU();
    f.map = new Map([['a', new nn.ReLU()]]);
    f.sizes = [1, 2];
    f.opts = { lr: 0.1 };
    f.count = 3;
    expect(f.count).toBe(3);
    expect(layout(n)).toEqual(['fc:Linear']);
    expect(Object.keys(n.stateDict())).toEqual(['w', 'fc.weight', 'fc.bias']);
  });

  it('a numeric property of a plain Module is a name like any other; delete removes a registered name', () => {
    const n = new Net();
    fields(n)['0'] = new nn.ReLU();
    expect(layout(n)).toEqual(['fc:Linear', '0:ReLU']);
    delete fields(n).fc;
    delete fields(n).w;
    expect(layout(n)).toEqual(['0:ReLU']);
    expect(n.stateDict()).toEqual({});
    expect(fields(n).fc).toBeUndefined();
  });
});

// ---- registration ------------------------------------------------------------------------------------------------

describe('registerModule / addModule / registerParameter / registerBuffer', () => {
  const m = (): nn.Module => new nn.Module();
  const rejections: Rejection[] = [
    ['a module name with a dot', () => m().registerModule('a.b', new nn.ReLU()), RangeError, 'invalid module name the string "a.b"'],
    ['an empty module name', () => m().registerModule('', new nn.ReLU()), RangeError, 'invalid module name the string ""'],
    ['a numeric module name', () => m().registerModule(3 as never, new nn.ReLU()), RangeError, 'invalid module name the number 3'],
    ['addModule with a dotted name', () => m().addModule('x.', new nn.ReLU()), RangeError, 'invalid module name the string "x."'],
    ['a module that is an object', () => m().registerModule('x', {} as never), TypeError, 'registerModule expects a Module but received an object (Object)'],
    ['an undefined module', () => m().registerModule('x', undefined as never), TypeError, 'registerModule expects a Module but received undefined'],
    ['a parameter name with a dot', () => m().registerParameter('a.b', null), RangeError, 'invalid parameter name the string "a.b"'],
    ['an empty parameter name', () => m().registerParameter('', null), RangeError, 'invalid parameter name the string ""'],
    ['a parameter name that is null', () => m().registerParameter(null as never, null), RangeError, 'invalid parameter name null'],
    ['a parameter that is a number', () => m().registerParameter('p', 3 as never), TypeError, 'registerParameter expects a Tensor or null but received the number 3'],
    ['a buffer name with a dot', () => m().registerBuffer('a.b', null), RangeError, 'invalid buffer name the string "a.b"'],
    ['an empty buffer name', () => m().registerBuffer('', null), RangeError, 'invalid buffer name the string ""'],
    ['a buffer name that is a number', () => m().registerBuffer(1 as never, null), RangeError, 'invalid buffer name the number 1'],
    ['a buffer that is an array', () => m().registerBuffer('b', [1] as never), TypeError, 'registerBuffer expects a Tensor or null but received an array'],
  ];
  it.each(rejections)('%s is rejected', (_, fn, cls, message) => expectError(fn, cls, message));

  it('registerModule and addModule make properties; null keeps the name (printed None)', () => {
    const r = new nn.Module();
    const lin = new nn.Linear(1, 1);
    r.registerModule('fc', lin);
    r.addModule('gone', null);
    expect(fields(r).fc).toBe(lin);
    expect(fields(r).gone).toBeNull();
    expect(layout(r)).toEqual(['fc:Linear']);
    expect(String(r)).toBe('Module(\n  (fc): Linear(in_features=1, out_features=1, bias=True)\n  (gone): None\n)');
  });

  it('registerParameter: a plain tensor becomes a Parameter that requires grad; a frozen Parameter stays frozen', () => {
    const r = new nn.Module();
    const plain = torch.ones(2);
    const frozen = nn.Parameter(torch.ones(2), false);
    const live = nn.Parameter(torch.ones(2));
    r.registerParameter('plain', plain);
    r.registerParameter('frozen', frozen);
    r.registerParameter('live', live);
    r.registerParameter('unset', null);
    expect([nn.isParameter(plain), plain.requiresGrad, frozen.requiresGrad, live.requiresGrad]).toEqual([true, true, false, true]);
    expect(fields(r).plain).toBe(plain);
    expect(fields(r).unset).toBeNull();
    expect(names(r.namedParameters())).toEqual(['plain', 'frozen', 'live']);
  });

  it('registerBuffer: persistent false leaves the buffer out of the state dict; registered again (default), it is saved', () => {
    const r = new nn.Module();
    const t = torch.ones(1);
    r.registerBuffer('b', t, { persistent: false });
    expect(fields(r).b).toBe(t);
    expect(nn.isParameter(t)).toBe(false);
    expect([names(r.namedBuffers()), Object.keys(r.stateDict())]).toEqual([['b'], []]);
    r.registerBuffer('b', t);
    expect(Object.keys(r.stateDict())).toEqual(['b']);
    r.registerBuffer('b', t, { persistent: false });
    r.registerBuffer('b', t, { persistent: true });
    expect(Object.keys(r.stateDict())).toEqual(['b']);
    r.registerBuffer('none', null);
    expect(names(r.namedBuffers())).toEqual(['b']);
  });
});

// ---- traversal ---------------------------------------------------------------------------------------------------

describe('children, modules, named* and apply', () => {
  it("a shared submodule and a shared parameter are listed once, in PyTorch's order and with its prefixes", () => {
    const s = new Shared();
    // PyTorch: named_parameters() ['w', 'a.weight', 'a.bias'], prefix='p' ['p.w', 'p.a.weight', 'p.a.bias'],
    // recurse=False ['w']; named_buffers() ['buf', 'tmp'], (prefix='p', recurse=False) ['p.buf', 'p.tmp'];
    // named_modules() ['', 'a'], remove_duplicate=False ['', 'a', 'b'], prefix='root' ['root', 'root.a'];
    // named_children() ['a'].
    expect(names(s.namedParameters())).toEqual(['w', 'a.weight', 'a.bias']);
    expect(names(s.namedParameters('p'))).toEqual(['p.w', 'p.a.weight', 'p.a.bias']);
    expect(names(s.namedParameters('', false))).toEqual(['w']);
    expect(names(s.namedBuffers())).toEqual(['buf', 'tmp']);
    expect(names(s.namedBuffers('p', false))).toEqual(['p.buf', 'p.tmp']);
    expect(names(s.namedModules())).toEqual(['', 'a']);
    expect(names(s.namedModules('', { removeDuplicate: false }))).toEqual(['', 'a', 'b']);
    expect(names(s.namedModules('root'))).toEqual(['root', 'root.a']);
    expect(names(s.namedChildren())).toEqual(['a']);
    expect([...s.children()]).toEqual([s.a]);
    expect([...s.modules()]).toEqual([s, s.a]);
    expect(s.parameters()).toEqual([s.w, s.a.weight, s.a.bias]);
    expect(s.parameters(false)).toEqual([s.w]);
    expect(s.buffers().map((b, i) => b === s.getBuffer(['buf', 'tmp'][i]))).toEqual([true, true]);
    expect(s.buffers(false)).toHaveLength(2);
    expect(new nn.Linear(2, 2).buffers(false)).toEqual([]);
  });

  it('a tensor registered under two names is listed once by namedParameters / namedBuffers; both names are in the state dict (as PyTorch)', () => {
    const r = new nn.Module();
    const p = nn.Parameter(torch.ones(2));
    const b = torch.zeros(1);
    r.registerParameter('p1', p);
    r.registerParameter('p2', p);
    r.registerBuffer('b1', b);
    r.registerBuffer('b2', b);
    expect(names(r.namedParameters())).toEqual(['p1']);
    expect(names(r.namedBuffers())).toEqual(['b1']);
    expect(Object.keys(r.stateDict())).toEqual(['p1', 'p2', 'b1', 'b2']);
  });

  it('recurse: false stops at the module; recursing reaches grandchildren; null children are skipped', () => {
    const r = new nn.Module();
    r.registerModule('seq', new nn.Sequential(new nn.Linear(1, 1)));
    r.registerModule('gone', null);
    r.registerBuffer('b', torch.zeros(1));
    expect(names(r.namedParameters('', false))).toEqual([]);
    expect(names(r.namedParameters())).toEqual(['seq.0.weight', 'seq.0.bias']);
    expect(names(r.namedBuffers('x'))).toEqual(['x.b']);
    expect(names(r.namedModules())).toEqual(['', 'seq', 'seq.0']);
    expect(names(r.namedChildren())).toEqual(['seq']);
  });

  it('apply visits each child before its parent and returns the module; a non-function is a TypeError', () => {
    const r = new nn.Module();
    r.registerModule('fc', new nn.Linear(1, 1));
    r.registerModule('seq', new nn.Sequential(new nn.ReLU(), new nn.Tanh()));
    const seen: string[] = [];
    expect(r.apply((x) => seen.push(x.constructor.name))).toBe(r);
    // PyTorch: Linear, ReLU, Tanh, Sequential, Module
    expect(seen).toEqual(['Linear', 'ReLU', 'Tanh', 'Sequential', 'Module']);
    expectError(() => r.apply(3 as never), TypeError, 'apply() expects a function but received the number 3');
    expectError(() => r.apply(undefined as never), TypeError, 'apply() expects a function but received undefined');
  });
});

// ---- getSubmodule / getParameter / getBuffer ---------------------------------------------------------------------

describe('getSubmodule, getParameter and getBuffer', () => {
  const make = (): nn.Module => {
    const r = new Net();
    r.registerModule('seq', new nn.Sequential(new nn.Linear(1, 1), new nn.BatchNorm1d(1)));
    r.registerModule('gone', null);
    r.registerParameter('unset', null);
    r.registerBuffer('empty', null);
    return r;
  };
  const rejections: Rejection[] = [
    ['getSubmodule of a number', () => make().getSubmodule(3 as never), TypeError, 'getSubmodule expects a dotted name but received the number 3'],
    ['getSubmodule of a missing child', () => make().getSubmodule('nope'), TorchError, 'Net has no attribute `nope`'],
    ['getSubmodule of a missing grandchild', () => make().getSubmodule('seq.5'), TorchError, 'Sequential has no attribute `5`'],
    ['getSubmodule through a null child', () => make().getSubmodule('gone.x'), TorchError, '`gone` is not an nn.Module (it is null)'],
    ['getParameter of an empty name', () => make().getParameter(''), TypeError, 'getParameter expects a dotted name but received the string ""'],
    ['getParameter of null', () => make().getParameter(null as never), TypeError, 'getParameter expects a dotted name but received null'],
    ['getParameter of a missing name', () => make().getParameter('seq.0.nope'), TorchError, '`nope` is not an nn.Parameter of Linear'],
    ['getParameter of a buffer', () => make().getParameter('seq.1.running_mean'), TorchError, '`running_mean` is not an nn.Parameter of BatchNorm1d'],
    ['getParameter of a null parameter', () => make().getParameter('unset'), TorchError, '`unset` is not an nn.Parameter of Net'],
    ['getParameter below a missing module', () => make().getParameter('nope.weight'), TorchError, 'Net has no attribute `nope`'],
    ['getBuffer of a number', () => make().getBuffer(5 as never), TypeError, 'getBuffer expects a dotted name but received the number 5'],
    ['getBuffer of an empty name', () => make().getBuffer(''), TypeError, 'getBuffer expects a dotted name but received the string ""'],
    ['getBuffer of a parameter', () => make().getBuffer('fc.weight'), TorchError, '`weight` is not a buffer of Linear'],
    ['getBuffer of a null buffer', () => make().getBuffer('empty'), TorchError, '`empty` is not a buffer of Net'],
  ];
  it.each(rejections)('%s is rejected', (_, fn, cls, message) => expectError(fn, cls, message));

  it('lookup failures are VALUE_ERRORs', () => {
    expect((thrown(() => make().getSubmodule('nope')) as TorchError).code).toBe('VALUE_ERROR');
    expect((thrown(() => make().getSubmodule('gone')) as TorchError).code).toBe('VALUE_ERROR');
    expect((thrown(() => make().getParameter('unset')) as TorchError).code).toBe('VALUE_ERROR');
    expect((thrown(() => make().getBuffer('empty')) as TorchError).code).toBe('VALUE_ERROR');
  });

  it("'' is the module itself; dotted paths reach grandchildren, their parameters and buffers", () => {
    const r = make();
    expect(r.getSubmodule('')).toBe(r);
    const seq = r.getSubmodule('seq') as nn.Sequential;
    expect(r.getSubmodule('seq.1')).toBe(seq[1]);
    expect(r.getParameter('w')).toBe((r as Net).w);
    expect(r.getParameter('seq.0.weight')).toBe((seq[0] as nn.Linear).weight);
    expect(r.getBuffer('seq.1.num_batches_tracked').dtype).toBe('int64');
  });
});

// ---- stateDict / loadStateDict -----------------------------------------------------------------------------------

describe('stateDict and loadStateDict', () => {
  it("stateDict: per module parameters then persistent buffers; prefix; detached views unless keepVars (PyTorch's keys)", () => {
    const s = new Shared();
    const sd = s.stateDict();
    // PyTorch's: the shared child under both of its names (state_dict recurses over every registration).
    expect(Object.keys(sd)).toEqual(['w', 'buf', 'a.weight', 'a.bias', 'b.weight', 'b.bias']);
    expect(Object.keys(s.stateDict({ prefix: 'x' }))).toEqual(['x.w', 'x.buf', 'x.a.weight', 'x.a.bias', 'x.b.weight', 'x.b.bias']);
    expect(sd.w).not.toBe(s.w);
    expect(sd.w.requiresGrad).toBe(false);
    sd.w.fill_(5); // a view of the same storage, as PyTorch's state_dict()
    expect(s.w.item()).toBe(5);
    const kept = s.stateDict({ keepVars: true });
    expect(kept.w).toBe(s.w);
    expect(kept.buf).toBe(s.getBuffer('buf'));
    expect(kept.w.requiresGrad).toBe(true);
    expect(s.stateDict({ keepVars: false }).w).not.toBe(s.w);
  });

  it('loadStateDict: a shared child is expected under each of its names, as PyTorch loads its own state_dict', () => {
    const s = new Shared();
    const sd = s.stateDict();
    expect(s.loadStateDict(sd)).toEqual({ missingKeys: [], unexpectedKeys: [] });
    const { 'b.bias': _dropped, ...partial } = sd;
    // PyTorch: 'Error(s) in loading state_dict for S:\n\tMissing key(s) in state_dict: "b.bias". '
    expectError(() => s.loadStateDict(partial), TorchError, 'Error(s) in loading state_dict for Shared:\n\tMissing key(s) in state_dict: "b.bias".');
    expect(s.loadStateDict(partial, { strict: false })).toEqual({ missingKeys: ['b.bias'], unexpectedKeys: [] });
  });

  const rejections: Rejection[] = [
    ['null', () => mlp().loadStateDict(null as never), TypeError, 'loadStateDict expects an object of tensors but received null'],
    ['a string', () => mlp().loadStateDict('x' as never), TypeError, 'loadStateDict expects an object of tensors but received the string "x"'],
  ];
  it.each(rejections)('loadStateDict of %s is a TypeError', (_, fn, cls, message) => expectError(fn, cls, message));

  it("missing, unexpected and mis-shaped keys together: one TorchError listing them in PyTorch's order", () => {
    const m = mlp();
    const { ['2.bias']: _b, ['0.weight']: _w, ...rest } = m.stateDict();
    const sd = { ...rest, extra: torch.ones(1), z: torch.ones(1), '2.weight': torch.ones(3, 8, 1) };
    // PyTorch's text is the same but for a space after each list's period and torch.Size([...]) for the shapes:
    // 'Error(s) in loading state_dict for Sequential:\n\tMissing key(s) in state_dict: "0.weight", "2.bias". \n\t
    //  Unexpected key(s) in state_dict: "extra", "z". \n\tsize mismatch for 2.weight: copying a param with shape
    //  torch.Size([3, 8, 1]) from checkpoint, the shape in current model is torch.Size([3, 8]).'
    const message =
      'Error(s) in loading state_dict for Sequential:\n' +
      '\tMissing key(s) in state_dict: "0.weight", "2.bias".\n' +
      '\tUnexpected key(s) in state_dict: "extra", "z".\n' +
      '\tsize mismatch for 2.weight: copying a param with shape [3, 8, 1] from checkpoint, the shape in current model is [3, 8].';
    expectError(() => m.loadStateDict(sd), TorchError, message);
    expect((thrown(() => m.loadStateDict(sd)) as TorchError).code).toBe('VALUE_ERROR');
    expectError(() => m.loadStateDict(sd, { strict: true }), TorchError, message);
    // strict: false drops the key lists, not the size mismatch (as PyTorch).
    expectError(
      () => m.loadStateDict(sd, { strict: false }),
      TorchError,
      'Error(s) in loading state_dict for Sequential:\n\tsize mismatch for 2.weight: copying a param with shape [3, 8, 1] from checkpoint, the shape in current model is [3, 8].',
    );
  });

  it('a size mismatch of the same rank, and a value that is not a tensor, are errors with or without strict', () => {
    const m = mlp();
    const sd = m.stateDict();
    expectError(
      () => m.loadStateDict({ ...sd, '0.weight': torch.ones(6, 8) }, { strict: false }),
      TorchError,
      'Error(s) in loading state_dict for Sequential:\n\tsize mismatch for 0.weight: copying a param with shape [6, 8] from checkpoint, the shape in current model is [8, 6].',
    );
    expectError(
      () => m.loadStateDict({ ...sd, '2.bias': torch.ones(3, 1) }),
      TorchError,
      'Error(s) in loading state_dict for Sequential:\n\tsize mismatch for 2.bias: copying a param with shape [3, 1] from checkpoint, the shape in current model is [3].',
    );
    expectError(
      () => m.loadStateDict({ ...sd, '0.bias': 3 as never, '2.bias': 'w' as never }, { strict: false }),
      TorchError,
      'Error(s) in loading state_dict for Sequential:\n\tWhile copying the parameter named "0.bias", expected a Tensor but received the number 3.\n\tWhile copying the parameter named "2.bias", expected a Tensor but received the string "w".',
    );
  });

  it('strict: false returns the missing and unexpected keys and loads the rest; a full match returns empty lists', () => {
    const src = mlp();
    const dst = mlp();
    const { ['2.bias']: _dropped, ...rest } = src.stateDict();
    const w = dst.getParameter('0.weight');
    const bias = dst.getParameter('2.bias').clone();
    // PyTorch: _IncompatibleKeys(missing_keys=['2.bias'], unexpected_keys=['extra'])
    expect(dst.loadStateDict({ ...rest, extra: torch.ones(1) }, { strict: false })).toEqual({ missingKeys: ['2.bias'], unexpectedKeys: ['extra'] });
    expect(dst.getParameter('0.weight')).toBe(w); // copied in place
    expect(w.equal(src.getParameter('0.weight'))).toBe(true);
    expect(dst.getParameter('2.bias').equal(bias)).toBe(true);
    expect([w.requiresGrad, w.isLeaf]).toEqual([true, true]);
    expect(torch.isGradEnabled()).toBe(true);
    expect(dst.loadStateDict(src.stateDict())).toEqual({ missingKeys: [], unexpectedKeys: [] });
    expect(torch.noGrad(() => (dst.loadStateDict(src.stateDict()), torch.isGradEnabled()))).toBe(false);
  });

  it('non-persistent buffers and null parameters are neither expected nor loaded; given, they are unexpected', () => {
    const r = new nn.Module();
    r.registerParameter('p', nn.Parameter(torch.zeros(2)));
    r.registerParameter('unset', null);
    r.registerBuffer('tmp', torch.zeros(1), { persistent: false });
    expect(r.loadStateDict({ p: torch.ones(2) })).toEqual({ missingKeys: [], unexpectedKeys: [] });
    expect(r.getParameter('p').toArray()).toEqual([1, 1]);
    expectError(() => r.loadStateDict({ p: torch.ones(2), tmp: torch.ones(1), unset: torch.ones(1) }), TorchError, 'Error(s) in loading state_dict for Module:\n\tUnexpected key(s) in state_dict: "tmp", "unset".');
    expectError(() => r.loadStateDict({}), TorchError, 'Error(s) in loading state_dict for Module:\n\tMissing key(s) in state_dict: "p".');
  });
});

// ---- modes, gradients, conversions -------------------------------------------------------------------------------

describe('train, eval, requiresGrad_, zeroGrad', () => {
  const rejections: Rejection[] = [
    ['train(1)', () => mlp().train(1 as never), TypeError, 'train() expects a boolean but received the number 1'],
    ['train(null)', () => mlp().train(null as never), TypeError, 'train() expects a boolean but received null'],
    ["train('eval')", () => mlp().train('eval' as never), TypeError, 'train() expects a boolean but received the string "eval"'],
    ["requiresGrad_('no')", () => mlp().requiresGrad_('no' as never), TypeError, 'requiresGrad_() expects a boolean but received the string "no"'],
    ['requiresGrad_(0)', () => mlp().requiresGrad_(0 as never), TypeError, 'requiresGrad_() expects a boolean but received the number 0'],
  ];
  it.each(rejections)('%s is rejected', (_, fn, cls, message) => expectError(fn, cls, message));

  it('train() defaults to true; train(false) and eval() reach every submodule and return the module', () => {
    const r = new nn.Module();
    r.registerModule('seq', mlp());
    expect(r.training).toBe(true);
    expect(r.train(false)).toBe(r);
    expect([...r.modules()].map((x) => x.training)).toEqual([false, false, false, false, false]);
    expect(r.train()).toBe(r);
    expect([...r.modules()].every((x) => x.training)).toBe(true);
    expect(r.eval()).toBe(r);
    expect([...r.modules()].some((x) => x.training)).toBe(false);
    r.train(true);
    expect([...r.modules()].every((x) => x.training)).toBe(true);
  });

  it('eval() switches native layers too: a native Dropout, alone or in a native Sequential, passes its input through', () => {
    torch.manualSeed(0);
    const x = torch.ones(64);
    const d = new nn.Dropout(0.5);
    expect(d.call(x).equal(x)).toBe(false);
    d.eval();
    expect(d.call(x).equal(x)).toBe(true);
    d.train();
    expect(d.call(x).equal(x)).toBe(false);
    const s = new nn.Sequential(new nn.Dropout(0.5));
    expect(s.call(x).equal(x)).toBe(false);
    s.eval();
    expect(s.call(x).equal(x)).toBe(true);
  });

  it('requiresGrad_ defaults to true and sets every parameter', () => {
    const m = mlp();
    expect(m.requiresGrad_(false)).toBe(m);
    expect(m.parameters().map((p) => p.requiresGrad)).toEqual([false, false, false, false]);
    expect(m.requiresGrad_()).toBe(m);
    expect(m.parameters().every((p) => p.requiresGrad)).toBe(true);
    m.requiresGrad_(false).requiresGrad_(true);
    expect(m.parameters().every((p) => p.requiresGrad)).toBe(true);
  });

  it('zeroGrad sets gradients to null by default, to zeros with setToNone: false', () => {
    const m = new nn.Linear(2, 1);
    m.call(torch.ones(3, 2)).sum().backward();
    expect(m.weight.grad?.toArray()).toEqual([[3, 3]]);
    m.zeroGrad({ setToNone: false });
    expect(m.weight.grad?.toArray()).toEqual([[0, 0]]);
    expect(m.bias?.grad?.toArray()).toEqual([0]);
    m.zeroGrad({ setToNone: true });
    expect(m.weight.grad).toBeNull();
    m.call(torch.ones(3, 2)).sum().backward();
    m.zeroGrad();
    expect([m.weight.grad, m.bias?.grad]).toEqual([null, null]);
  });
});

describe('to(), cuda() and the dtype shorthands', () => {
  const rejections: Rejection[] = [
    ['a number', () => mlp().to(3 as never), TypeError, 'to() expects a device, a dtype or {device, dtype, memoryFormat}, got the number 3'],
    ['null', () => mlp().to(null as never), TypeError, 'to() expects a device, a dtype or {device, dtype, memoryFormat}, got null'],
    ['undefined', () => mlp().to(undefined as never), TypeError, 'to() expects a device, a dtype or {device, dtype, memoryFormat}, got undefined'],
    ['an integer dtype', () => mlp().to('int64'), TypeError, 'Module.to only accepts floating point dtypes, got int64'],
    ['a bool dtype by name', () => mlp().to({ dtype: 'bool' }), TypeError, 'Module.to only accepts floating point dtypes, got bool'],
    [
      'an unknown dtype',
      () => mlp().to({ dtype: 'complex64' as never }),
      RangeError,
      "Unknown dtype 'complex64' for dtype; expected one of uint8, int8, int16, int32, int64, float16, float32, float64, bool, bfloat16",
    ],
    ['a dtype that is a number', () => mlp().to({ dtype: 5 as never }), TypeError, 'Expected a dtype name for dtype but received the number 5'],
    ['an unknown cuda device string', () => mlp().to('cudax' as never), RangeError, "Unknown device 'cudax'; expected 'cpu', 'cuda' or 'cuda:N'"],
    ['a device that is a number', () => mlp().to({ device: 5 as never }), TypeError, "Expected a device ('cpu', 'cuda' or 'cuda:N') but received the number 5"],
    // the device is checked before the dtype, the memory format before both
    ['an unknown device with an integer dtype', () => mlp().to({ device: 'tpu' as never, dtype: 'int64' }), RangeError, "Unknown device 'tpu'; expected 'cpu', 'cuda' or 'cuda:N'"],
    [
      'an unknown memory format with an unknown device',
      () => mlp().to({ memoryFormat: 'nhwc' as never, device: 'tpu' as never }),
      RangeError,
      "Module.to(): expected memoryFormat to be one of 'contiguousFormat', 'channelsLast', 'channelsLast3d' or 'preserveFormat' (torch.channelsLast, ...) but received the string \"nhwc\"",
    ],
    [
      'a memory format that is a number',
      () => mlp().to({ memoryFormat: 4 as never }),
      TypeError,
      "Module.to(): expected memoryFormat to be one of 'contiguousFormat', 'channelsLast', 'channelsLast3d' or 'preserveFormat' (torch.channelsLast, ...) but received the number 4",
    ],
    ['cuda(1.5)', () => mlp().cuda(1.5), RangeError, 'Expected an integer for device but received 1.5'],
  ];
  it.each(rejections)('%s is rejected', (_, fn, cls, message) => expectError(fn, cls, message));

  it('a rejected to() changes nothing', () => {
    const m = mlp();
    expect(thrown(() => m.to({ device: 'cpu', dtype: 'int32' }))).toBeInstanceOf(TypeError);
    expect(m.parameters().map((p) => p.dtype)).toEqual(['float32', 'float32', 'float32', 'float32']);
  });

  it('to(dtype), to({dtype}) and to({device, dtype}) convert in place, gradients included; to(device) and to({}) keep dtypes', () => {
    const m = mlp();
    const w = m.getParameter('0.weight');
    w.grad = torch.full([8, 6], 3, { dtype: 'float32' });
    expect(m.to('cpu')).toBe(m);
    expect(m.to({})).toBe(m);
    expect([w.dtype, w.grad?.dtype]).toEqual(['float32', 'float32']);
    expect(m.to('float64')).toBe(m);
    expect(m.getParameter('0.weight')).toBe(w);
    expect([w.dtype, w.grad?.dtype, m.getParameter('2.bias').dtype, m.getParameter('2.bias').grad]).toEqual(['float64', 'float64', 'float64', null]);
    expect(w.grad?.sum().item()).toBe(144);
    expect(m.to({ dtype: 'float16' })).toBe(m);
    expect(w.dtype).toBe('float16');
    expect(m.to({ device: 'cpu', dtype: 'float32' })).toBe(m);
    expect([w.dtype, w.grad?.dtype, w.requiresGrad, w.isLeaf]).toEqual(['float32', 'float32', true, true]);
    expect(m.double().float().half().bfloat16().getParameter('2.bias').dtype).toBe('bfloat16');
  });

  it('a memory format lays out 5-d tensors as well as 4-d ones, and leaves the others alone', () => {
    const r = new nn.Module();
    r.registerParameter('w', nn.Parameter(torch.ones(2, 3, 4)));
    r.registerBuffer('v', torch.ones(2, 3, 4, 5, 6));
    expect(r.to({ memoryFormat: torch.channelsLast3d })).toBe(r);
    expect(r.getBuffer('v').stride()).toEqual([360, 1, 90, 18, 3]);
    expect(r.getParameter('w').stride()).toEqual([12, 4, 1]);
  });

  itWhen(!HAS_CUDA, NEEDS_NO_CUDA, "cuda() asks for the current device, cuda(n) for 'cuda:n': a CUDA_UNAVAILABLE TorchError without one", () => {
    const tail = 'was requested but no CUDA device is available (torch.cuda.isAvailable() is false); use \'cpu\', or run on a machine with an NVIDIA GPU and a CUDA build of libtorch';
    expectError(() => mlp().cuda(), TorchError, `device 'cuda' ${tail}`);
    expectError(() => mlp().cuda(0), TorchError, `device 'cuda:0' ${tail}`);
    expectError(() => mlp().to('cuda'), TorchError, `device 'cuda' ${tail}`);
    expect((thrown(() => mlp().cuda()) as TorchError).code).toBe('CUDA_UNAVAILABLE');
  });
});

// ---- printout ----------------------------------------------------------------------------------------------------

describe('the printout and toJSON of custom modules', () => {
  class A extends nn.Module {
    override extraRepr(): string {
      return 'a=1';
    }
  }
  class B extends nn.Module {
    override extraRepr(): string {
      return 'x=1\ny=2';
    }
  }
  class C extends nn.Module {
    inner = new A();
    constructor() {
      super();
      this.addModule('gone', null);
      this.registerModule('seq', new nn.Sequential(new B(), new nn.ReLU()));
    }
    override extraRepr(): string {
      return 'c=3';
    }
  }

  it("prints as PyTorch's __repr__: one-line extra_repr, multi-line extra_repr, extra lines before children, None, nesting", () => {
    // PyTorch: repr(A()), repr(B()), repr(C()), repr(nn.Module())
    expect(String(new A())).toBe('A(a=1)');
    expect(String(new B())).toBe('B(\n  x=1\n  y=2\n)');
    expect(String(new C())).toBe('C(\n  c=3\n  (inner): A(a=1)\n  (gone): None\n  (seq): Sequential(\n    (0): B(\n      x=1\n      y=2\n    )\n    (1): ReLU()\n  )\n)');
    expect(String(new nn.Module())).toBe('Module()');
    expect(new nn.Module().extraRepr()).toBe('');
    const inspect = Symbol.for('nodejs.util.inspect.custom');
    expect((new C() as unknown as Record<symbol, () => string>)[inspect]()).toBe(String(new C()));
  });

  it('toJSON gives type, extra only when there is one, children only when there are some, null for an empty slot', () => {
    expect(new C().toJSON()).toStrictEqual({
      type: 'C',
      extra: 'c=3',
      children: {
        inner: { type: 'A', extra: 'a=1' },
        gone: null,
        seq: { type: 'Sequential', children: { 0: { type: 'B', extra: 'x=1\ny=2' }, 1: { type: 'ReLU' } } },
      },
    });
    expect(JSON.stringify(new nn.Module())).toBe('{"type":"Module"}');
  });

  it("ModuleList folds runs of equal children and not the others (PyTorch's printout)", () => {
    const l = new nn.ModuleList([new nn.Linear(2, 2), new nn.Linear(2, 2), new nn.ReLU(), new nn.Linear(2, 2)]);
    expect(String(l)).toBe(
      'ModuleList(\n  (0-1): 2 x Linear(in_features=2, out_features=2, bias=True)\n  (2): ReLU()\n  (3): Linear(in_features=2, out_features=2, bias=True)\n)',
    );
    expect(String(new nn.ModuleList([new nn.ReLU()]))).toBe('ModuleList(\n  (0): ReLU()\n)');
    expect(String(new nn.ModuleList([new nn.ReLU(), new nn.ReLU(), new nn.ReLU()]))).toBe('ModuleList(\n  (0-2): 3 x ReLU()\n)');
  });
});

// ---- Sequential --------------------------------------------------------------------------------------------------

const seq3 = (): nn.Sequential => new nn.Sequential(new nn.ReLU(), new nn.Tanh(), new nn.Sigmoid());
const list3 = (): nn.ModuleList => new nn.ModuleList([new nn.ReLU(), new nn.Tanh(), new nn.Sigmoid()]);
const byIndex = (c: nn.Module): Record<number, unknown> => c as unknown as Record<number, unknown>;

describe('nn.Sequential checks and index semantics', () => {
  const rejections: Rejection[] = [
    ['at(1.5)', () => seq3().at(1.5), TypeError, 'Sequential indices must be integers, not the number 1.5'],
    ["at('1')", () => seq3().at('1' as never), TypeError, 'Sequential indices must be integers, not the string "1"'],
    ['at(NaN)', () => seq3().at(NaN), TypeError, 'Sequential indices must be integers, not NaN'],
    ['at(3) of three', () => seq3().at(3), RangeError, 'index 3 is out of range for a Sequential of 3'],
    ['at(-4) of three', () => seq3().at(-4), RangeError, 'index -4 is out of range for a Sequential of 3'],
    ['seq[3] of three', () => byIndex(seq3())[3], RangeError, 'index 3 is out of range for a Sequential of 3'],
    ['seq[-4] of three', () => byIndex(seq3())[-4], RangeError, 'index -4 is out of range for a Sequential of 3'],
    ['seq[3] = m', () => (byIndex(seq3())[3] = new nn.ReLU()), RangeError, 'index 3 is out of range for a Sequential of 3'],
    ["seq[0] = 'x'", () => (byIndex(seq3())[0] = 'x'), TypeError, 'Sequential expects Modules but received the string "x"'],
    ["seq[9] = 'x' (the index is checked first)", () => (byIndex(seq3())[9] = 'x'), RangeError, 'index 9 is out of range for a Sequential of 3'],
    ['delete seq[5]', () => delete byIndex(seq3())[5], RangeError, 'index 5 is out of range for a Sequential of 3'],
    ['a child that is a number', () => new nn.Sequential(new nn.ReLU(), 3 as never), TypeError, 'Sequential expects Modules but received the number 3'],
    ['a single null child', () => new nn.Sequential(null as never), TypeError, 'Sequential expects Modules but received null'],
    ['an object with a non-module', () => new nn.Sequential({ a: new nn.ReLU(), b: 'x' } as never), TypeError, 'Sequential expects Modules but received the string "x"'],
    ['append of a number', () => seq3().append(3 as never), TypeError, 'Sequential.append expects Modules but received the number 3'],
    ['extend with a non-module', () => seq3().extend([new nn.ReLU(), {} as never]), TypeError, 'Sequential.append expects Modules but received an object (Object)'],
    ['insert of a number', () => seq3().insert(0, 3 as never), TypeError, 'Sequential.insert expects Modules but received the number 3'],
    ['insert at 1.5', () => seq3().insert(1.5, new nn.ReLU()), TypeError, 'Sequential.insert: expected an integer index but received the number 1.5'],
    ["insert at '1'", () => seq3().insert('1' as never, new nn.ReLU()), TypeError, 'Sequential.insert: expected an integer index but received the string "1"'],
    // PyTorch: IndexError "Index out of range: 4" / "Index out of range: -4" for a Sequential of three
    ['insert at 4 of three', () => seq3().insert(4, new nn.ReLU()), RangeError, 'Index out of range: 4'],
    ['insert at -4 of three', () => seq3().insert(-4, new nn.ReLU()), RangeError, 'Index out of range: -4'],
    ['pop(3) of three', () => seq3().pop(3), RangeError, 'index 3 is out of range for a Sequential of 3'],
    ['pop(1.5)', () => seq3().pop(1.5), TypeError, 'Sequential indices must be integers, not the number 1.5'],
    ['pop() of an empty Sequential', () => new nn.Sequential().pop(), RangeError, 'index -1 is out of range for a Sequential of 0'],
  ];
  it.each(rejections)('%s is rejected', (_, fn, cls, message) => expectError(fn, cls, message));

  it('indices at both ends of the range: 0, n-1, -1, -n', () => {
    const s = seq3();
    expect([0, 2, -1, -3].map((i) => s.at(i).constructor.name)).toEqual(['ReLU', 'Sigmoid', 'Sigmoid', 'ReLU']);
    expect([byIndex(s)[2], byIndex(s)[-3]]).toEqual([s.at(2), s.at(0)]);
    expect(s.length).toBe(3);
  });

  it("insert accepts -n and n (PyTorch's bounds), renumbering the children", () => {
    // PyTorch: insert(-3, Identity()) → Identity, ReLU, Tanh, Sigmoid; insert(3, Identity()) → ReLU, Tanh, Sigmoid, Identity
    const a = seq3();
    expect(a.insert(-3, new nn.Identity())).toBe(a);
    expect(layout(a)).toEqual(['0:Identity', '1:ReLU', '2:Tanh', '3:Sigmoid']);
    const b = seq3();
    b.insert(3, new nn.Identity());
    expect(layout(b)).toEqual(['0:ReLU', '1:Tanh', '2:Sigmoid', '3:Identity']);
    const c = seq3();
    c.insert(-1, new nn.Identity());
    expect(layout(c)).toEqual(['0:ReLU', '1:Tanh', '2:Identity', '3:Sigmoid']);
  });

  it('pop() takes the last; pop(i) and delete renumber the rest; append and extend return the Sequential', () => {
    const s = seq3();
    expect(s.pop().constructor.name).toBe('Sigmoid');
    expect(layout(s)).toEqual(['0:ReLU', '1:Tanh']);
    // PyTorch: del seq[1] → 0: ReLU, 1: Sigmoid; then del seq[-1] → 0: ReLU
    const d = seq3();
    delete byIndex(d)[1];
    expect(layout(d)).toEqual(['0:ReLU', '1:Sigmoid']);
    delete byIndex(d)[-1];
    expect(layout(d)).toEqual(['0:ReLU']);
    expect(d.append(new nn.Tanh())).toBe(d);
    expect(d.extend([new nn.ReLU()])).toBe(d);
    expect(layout(d)).toEqual(['0:ReLU', '1:Tanh', '2:ReLU']);
  });

  it("'i' in seq holds for the indices in range only", () => {
    const s = seq3();
    expect(['0', '2', '3', '-1'].map((k) => k in s)).toEqual([true, true, false, false]);
    expect('length' in s).toBe(true);
    expect((s as unknown as Record<string, unknown>)['1x']).toBeUndefined();
    expect((s as unknown as Record<string, unknown>)['x1']).toBeUndefined();
  });

  it('one module argument is one child; an empty Sequential returns its input itself (as PyTorch)', () => {
    expect(layout(new nn.Sequential(new nn.ReLU()))).toEqual(['0:ReLU']);
    expect(layout(new nn.Sequential({ act: new nn.ReLU() }))).toEqual(['act:ReLU']);
    const x = torch.ones(2);
    expect(new nn.Sequential().call(x)).toBe(x);
    expect(new nn.Sequential().nativeHandle()).toBeNull();
  });

  it('a child that is not native runs through JavaScript; the output is the composition', () => {
    class Double extends nn.Module<[Tensor], Tensor> {
      override forward(x: Tensor): Tensor {
        return x.mul(2);
      }
    }
    const s = new nn.Sequential(new nn.ReLU(), new Double());
    expect(s.nativeHandle()).toBeNull();
    expect(s.call(f32([-1, 3])).toArray()).toEqual([0, 6]);
    const native: nn.Sequential = new nn.Sequential(new nn.ReLU(), new nn.Tanh());
    expect(native.nativeHandle()).not.toBeNull();
    native[1] = new Double();
    expect(native.call(f32([-1, 3])).toArray()).toEqual([0, 6]);
  });
});

// ---- ModuleList --------------------------------------------------------------------------------------------------

describe('nn.ModuleList checks and index semantics', () => {
  const rejections: Rejection[] = [
    ['a null iterable', () => new nn.ModuleList(null as never), TypeError, 'ModuleList expects an iterable of Modules but received null'],
    ['a number', () => new nn.ModuleList(3 as never), TypeError, 'ModuleList expects an iterable of Modules but received the number 3'],
    ['a non-module item', () => new nn.ModuleList([new nn.ReLU(), 'x' as never]), TypeError, 'ModuleList.append expects Modules but received the string "x"'],
    ['at(3) of three', () => list3().at(3), RangeError, 'index 3 is out of range for a ModuleList of 3'],
    ['at(-4) of three', () => list3().at(-4), RangeError, 'index -4 is out of range for a ModuleList of 3'],
    ['at(0.5)', () => list3().at(0.5), TypeError, 'ModuleList indices must be integers, not the number 0.5'],
    ['list[3] = m', () => (byIndex(list3())[3] = new nn.ReLU()), RangeError, 'index 3 is out of range for a ModuleList of 3'],
    ['list[0] = 3', () => (byIndex(list3())[0] = 3), TypeError, 'ModuleList expects Modules but received the number 3'],
    ['append of a number', () => list3().append(3 as never), TypeError, 'ModuleList.append expects Modules but received the number 3'],
    ['insert of a number', () => list3().insert(0, 3 as never), TypeError, 'ModuleList.insert expects Modules but received the number 3'],
    ['insert at 0.5', () => list3().insert(0.5, new nn.ReLU()), TypeError, 'ModuleList.insert: expected an integer index but received the number 0.5'],
    ['insert at null', () => list3().insert(null as never, new nn.ReLU()), TypeError, 'ModuleList.insert: expected an integer index but received null'],
    ['pop(5) of three', () => list3().pop(5), RangeError, 'index 5 is out of range for a ModuleList of 3'],
    ['delete list[3]', () => delete byIndex(list3())[3], RangeError, 'index 3 is out of range for a ModuleList of 3'],
    ['forward', () => (list3() as unknown as { forward(): unknown }).forward(), TypeError, 'ModuleList has no forward; iterate over it and call its modules'],
  ];
  it.each(rejections)('%s is rejected', (_, fn, cls, message) => expectError(fn, cls, message));

  // Python's list.insert: an index past either end inserts at that end. (PyTorch's own ModuleList.insert fails on a
  // negative index with KeyError '-1' and registers insert(10, m) under the name '10'.)
  const INSERTS: [number, string[]][] = [
    [-1, ['ReLU', 'Tanh', 'Identity', 'Sigmoid']],
    [-3, ['Identity', 'ReLU', 'Tanh', 'Sigmoid']],
    [-10, ['Identity', 'ReLU', 'Tanh', 'Sigmoid']],
    [0, ['Identity', 'ReLU', 'Tanh', 'Sigmoid']],
    [2, ['ReLU', 'Tanh', 'Identity', 'Sigmoid']],
    [3, ['ReLU', 'Tanh', 'Sigmoid', 'Identity']],
    [10, ['ReLU', 'Tanh', 'Sigmoid', 'Identity']],
  ];
  it.each(INSERTS)('insert(%i, m) follows Python list semantics and renumbers 0..n', (index, types) => {
    const l = list3();
    expect(l.insert(index, new nn.Identity())).toBe(l);
    expect(layout(l)).toEqual(types.map((t, i) => `${i}:${t}`));
  });

  it('the default is an empty list; pop() takes the last; delete and pop(i) renumber; slices share the modules', () => {
    expect(new nn.ModuleList().length).toBe(0);
    const l = list3();
    expect([0, 2, -1, -3].map((i) => l.at(i).constructor.name)).toEqual(['ReLU', 'Sigmoid', 'Sigmoid', 'ReLU']);
    expect(l.pop().constructor.name).toBe('Sigmoid');
    expect(layout(l)).toEqual(['0:ReLU', '1:Tanh']);
    delete byIndex(l)[0];
    expect(layout(l)).toEqual(['0:Tanh']);
    const m = list3();
    expect(m.pop(1).constructor.name).toBe('Tanh');
    expect(layout(m)).toEqual(['0:ReLU', '1:Sigmoid']);
    const k = list3();
    expect(layout(k.slice(-2))).toEqual(['0:Tanh', '1:Sigmoid']);
    expect(k.slice(0, 1).at(0)).toBe(k.at(0));
    expect(k.append(new nn.ReLU()).extend([new nn.Tanh()])).toBe(k);
    expect([...k].map((x) => x.constructor.name)).toEqual(['ReLU', 'Tanh', 'Sigmoid', 'ReLU', 'Tanh']);
    expect(['0', '4', '5', '-1'].map((i) => i in k)).toEqual([true, true, false, false]);
  });
});

// ---- ModuleDict --------------------------------------------------------------------------------------------------

describe('nn.ModuleDict checks and dictionary semantics', () => {
  const dict = (): nn.ModuleDict => new nn.ModuleDict({ b: new nn.ReLU(), a: new nn.Tanh() });
  const rejections: Rejection[] = [
    ['get of a missing key', () => dict().get('z'), RangeError, "ModuleDict has no key 'z'"],
    ['pop of a missing key', () => dict().pop('z'), RangeError, "ModuleDict has no key 'z'"],
    ['a key that would hide keys()', () => dict().set('keys', new nn.ReLU()), RangeError, "ModuleDict: the key 'keys' would hide a ModuleDict member; choose another name"],
    ['a key that would hide training', () => dict().set('training', new nn.ReLU()), RangeError, "ModuleDict: the key 'training' would hide a ModuleDict member; choose another name"],
    ['a constructor key that would hide length', () => new nn.ModuleDict({ length: new nn.ReLU() }), RangeError, "ModuleDict: the key 'length' would hide a ModuleDict member; choose another name"],
    ['a value that is not a module', () => dict().set('b', 3 as never), TypeError, 'ModuleDict.set expects Modules but received the number 3'],
    ['a dotted key', () => dict().set('x.y', new nn.ReLU()), RangeError, 'invalid module name the string "x.y"'],
    ['a numeric key', () => dict().set(3 as never, new nn.ReLU()), RangeError, 'invalid module name the number 3'],
    ['update(null)', () => dict().update(null as never), TypeError, 'ModuleDict expects an object or an iterable of [key, module] pairs but received null'],
    ["update('ab')", () => dict().update('ab' as never), TypeError, 'ModuleDict expects an object or an iterable of [key, module] pairs but received the string "ab"'],
    ['a constructor argument that is a number', () => new nn.ModuleDict(5 as never), TypeError, 'ModuleDict expects an object or an iterable of [key, module] pairs but received the number 5'],
    ['forward', () => (dict() as unknown as { forward(): unknown }).forward(), TypeError, 'ModuleDict has no forward; look its modules up and call them'],
  ];
  it.each(rejections)('%s is rejected', (_, fn, cls, message) => expectError(fn, cls, message));

  it("keeps insertion order (PyTorch: ['b', 'a'], then update([('z', ...), ('c', ...)]) → ['b', 'a', 'z', 'c'])", () => {
    const d = dict();
    expect(d.keys()).toEqual(['b', 'a']);
    expect(d.update(new Map<string, nn.Module>([['z', new nn.ReLU()], ['c', new nn.ReLU()]]))).toBe(d);
    expect(d.keys()).toEqual(['b', 'a', 'z', 'c']);
    d.update([['q', new nn.Sigmoid()]]);
    expect([...d]).toEqual(['b', 'a', 'z', 'c', 'q']);
    expect(d.items().map(([k, v]) => `${k}:${v.constructor.name}`)).toEqual(['b:ReLU', 'a:Tanh', 'z:ReLU', 'c:ReLU', 'q:Sigmoid']);
    expect(d.values().map((v) => v.constructor.name)).toEqual(['ReLU', 'Tanh', 'ReLU', 'ReLU', 'Sigmoid']);
    expect(d.length).toBe(5);
    expect(new nn.ModuleDict().length).toBe(0);
  });

  it('set replaces an existing key in place and makes it a property; pop and clear remove the properties', () => {
    const d = dict();
    const sig = new nn.Sigmoid();
    expect(d.set('b', sig)).toBe(d);
    expect(d.keys()).toEqual(['b', 'a']);
    expect(d.get('b')).toBe(sig);
    expect(fields(d).b).toBe(sig);
    expect([d.has('a'), d.has('z')]).toEqual([true, false]);
    const a = d.get('a');
    expect(d.pop('a')).toBe(a);
    expect(['a' in d, fields(d).a, d.has('a')]).toEqual([false, undefined, false]);
    d.clear();
    expect([d.keys(), d.length, 'b' in d]).toEqual([[], 0, false]);
  });
});

// ---- ParameterList and ParameterDict -----------------------------------------------------------------------------

describe('nn.ParameterList and nn.ParameterDict checks', () => {
  const rejections: Rejection[] = [
    ['a ParameterList item that is a number', () => new nn.ParameterList([3 as never]), TypeError, 'ParameterList holds Tensors, not the number 3'],
    ['append of null', () => new nn.ParameterList().append(null as never), TypeError, 'ParameterList holds Tensors, not null'],
    ['extend with a non-tensor', () => new nn.ParameterList().extend([torch.ones(1), 'x' as never]), TypeError, 'ParameterList holds Tensors, not the string "x"'],
    ['list[0] = 3', () => (byIndex(new nn.ParameterList([torch.ones(1)]))[0] = 3), TypeError, 'ParameterList holds Tensors, not the number 3'],
    ['list[1] = t of one', () => (byIndex(new nn.ParameterList([torch.ones(1)]))[1] = torch.ones(1)), RangeError, 'index 1 is out of range for a ParameterList of 1'],
    ['list[9] = 3 (the value is checked first)', () => (byIndex(new nn.ParameterList())[9] = 3), TypeError, 'ParameterList holds Tensors, not the number 3'],
    ['at(0) of an empty list', () => new nn.ParameterList().at(0), RangeError, 'index 0 is out of range for a ParameterList of 0'],
    ['at(-2) of one', () => new nn.ParameterList([torch.ones(1)]).at(-2), RangeError, 'index -2 is out of range for a ParameterList of 1'],
    ['at(0.5)', () => new nn.ParameterList([torch.ones(1)]).at(0.5), TypeError, 'ParameterList indices must be integers, not the number 0.5'],
    ['ParameterList.forward', () => (new nn.ParameterList() as unknown as { forward(): unknown }).forward(), TypeError, 'ParameterList has no forward'],
    ['a ParameterDict value that is a number', () => new nn.ParameterDict({ a: 3 as never }), TypeError, 'ParameterDict holds Tensors, not the number 3'],
    ['set of an array', () => new nn.ParameterDict().set('a', [1] as never), TypeError, 'ParameterDict holds Tensors, not an array'],
    ['get of a missing key', () => new nn.ParameterDict().get('a'), RangeError, "ParameterDict has no key 'a'"],
    ['a dotted key', () => new nn.ParameterDict().set('a.b', torch.ones(1)), RangeError, 'invalid parameter name the string "a.b"'],
    ['ParameterDict.forward', () => (new nn.ParameterDict() as unknown as { forward(): unknown }).forward(), TypeError, 'ParameterDict has no forward'],
    // PyTorch's ParameterList has no __delitem__ (AttributeError): deleting would break the numbering.
    ['delete list[0]', () => delete byIndex(new nn.ParameterList([torch.ones(1)]))[0], TypeError, 'ParameterList does not support deleting items (delete list[0])'],
    // PyTorch: KeyError "attribute 'keys' already exists"
    ["a key naming a method ('keys')", () => new nn.ParameterDict().set('keys', torch.ones(1)), RangeError, "ParameterDict: the key 'keys' would hide a ParameterDict member; choose another name"],
    ['ParameterList(5)', () => new nn.ParameterList(5 as never), TypeError, 'ParameterList expects an iterable of Tensors but received the number 5'],
    ['ParameterList.extend(null)', () => new nn.ParameterList().extend(null as never), TypeError, 'ParameterList.extend expects an iterable of Tensors but received null'],
    ['ParameterDict(null)', () => new nn.ParameterDict(null as never), TypeError, 'ParameterDict expects an object or an iterable of [key, Tensor] pairs but received null'],
    ['ParameterDict of a bare tensor list', () => new nn.ParameterDict([torch.ones(1)] as never), TypeError,
      'ParameterDict expects an object or an iterable of [key, Tensor] pairs but received an iterable holding an object (Tensor)'],
    ['ModuleDict([5])', () => new nn.ModuleDict([5] as never), TypeError, 'ModuleDict expects an object or an iterable of [key, module] pairs but received an iterable holding the number 5'],
    ['Sequential.extend(5)', () => mlp().extend(5 as never), TypeError, 'Sequential.extend expects an iterable of Modules but received the number 5'],
    ['ModuleList.extend of a string', () => new nn.ModuleList().extend('ab' as never), TypeError, 'ModuleList.extend expects an iterable of Modules but received the string "ab"'],
  ];
  it.each(rejections)('%s is rejected', (_, fn, cls, message) => expectError(fn, cls, message));

  it('ParameterList: a plain tensor becomes a Parameter requiring grad; a frozen Parameter is kept as it is', () => {
    const plain = torch.ones(1);
    const frozen = nn.Parameter(torch.ones(2), false);
    // PyTorch: [p.requires_grad for p in ParameterList([torch.ones(1), Parameter(..., requires_grad=False)])] → [True, False]
    const l = new nn.ParameterList([plain, frozen]);
    expect([...l]).toEqual([plain, frozen]);
    expect([nn.isParameter(plain), plain.requiresGrad, frozen.requiresGrad]).toEqual([true, true, false]);
    const other = torch.zeros(3);
    byIndex(l)[-1] = other;
    expect([l.at(1), l.at(-1), nn.isParameter(other), other.requiresGrad]).toEqual([other, other, true, true]);
    const frozen2 = nn.Parameter(torch.ones(1), false);
    byIndex(l)[0] = frozen2;
    expect([l.at(0), frozen2.requiresGrad]).toEqual([frozen2, false]);
    expect(l.append(torch.ones(4))).toBe(l);
    expect(l.extend([torch.ones(5)])).toBe(l);
    expect([l.length, names(l.namedParameters())]).toEqual([4, ['0', '1', '2', '3']]);
    expect(['0', '3', '4', '-1'].map((i) => i in l)).toEqual([true, true, false, false]);
    expect(() => delete byIndex(l)[3]).toThrow(TypeError);
    expect(names(l.namedParameters())).toEqual(['0', '1', '2', '3']);
    expect(new nn.ParameterList().length).toBe(0);
  });

  it("ParameterDict: a plain object's keys sorted (PyTorch sorts a dict's); a Map or pairs keep their order", () => {
    // PyTorch: list(ParameterDict({'b': ..., 'a': ...}).keys()) → ['a', 'b']
    const d = new nn.ParameterDict({ b: torch.ones(1), c: torch.ones(3), a: torch.ones(2) });
    expect(d.keys()).toEqual(['a', 'b', 'c']);
    expect([...d]).toEqual(['a', 'b', 'c']);
    expect(d.values().map((v) => v.shape)).toEqual([[2], [1], [3]]);
    expect(d.items().map(([k]) => k)).toEqual(['a', 'b', 'c']);
    expect(new nn.ParameterDict(new Map([['b', torch.ones(1)], ['a', torch.ones(1)]])).keys()).toEqual(['b', 'a']);
    expect(new nn.ParameterDict([['z', torch.ones(1)], ['y', torch.ones(1)]] as [string, Tensor][]).keys()).toEqual(['z', 'y']);
    expect([d.length, d.has('a'), d.has('z'), new nn.ParameterDict().length]).toEqual([3, true, false, 0]);
  });

  it('ParameterDict: set makes a plain tensor a Parameter, keeps a frozen one frozen, and replaces a key in place', () => {
    const d = new nn.ParameterDict({ a: torch.ones(1) });
    const plain = torch.zeros(2);
    const frozen = nn.Parameter(torch.zeros(1), false);
    expect(d.set('p', plain)).toBe(d);
    d.set('f', frozen);
    expect([d.get('p'), nn.isParameter(plain), plain.requiresGrad, d.get('f'), frozen.requiresGrad]).toEqual([plain, true, true, frozen, false]);
    const again = torch.ones(5);
    d.set('a', again);
    expect([d.keys(), d.get('a')]).toEqual([['a', 'p', 'f'], again]);
    d.registerParameter('unset', null);
    expectError(() => d.get('unset'), RangeError, "ParameterDict has no key 'unset'");
  });
});

// ---- gradient clipping -------------------------------------------------------------------------------------------

describe('torch.nn.utils clipping: arguments and values', () => {
  const clip = torch.nn.utils;
  const p = (): Tensor => {
    const t = torch.zeros(2).requiresGrad_(true);
    t.grad = f32([1, 2]);
    return t;
  };
  const rejections: Rejection[] = [
    ['maxNorm NaN', () => clip.clipGradNorm_([p()], NaN), TypeError, 'clipGradNorm_: expected a number for maxNorm but received NaN'],
    ["maxNorm '1'", () => clip.clipGradNorm_([p()], '1' as never), TypeError, 'clipGradNorm_: expected a number for maxNorm but received the string "1"'],
    ['normType NaN', () => clip.clipGradNorm_([p()], 1, { normType: NaN }), TypeError, "clipGradNorm_: expected a number or 'inf' for normType but received NaN"],
    ["normType 'two'", () => clip.clipGradNorm_([p()], 1, { normType: 'two' as never }), TypeError, "clipGradNorm_: expected a number or 'inf' for normType but received the string \"two\""],
    ["normType 'Infinity'", () => clip.clipGradNorm_([p()], 1, { normType: 'Infinity' as never }), TypeError, "clipGradNorm_: expected a number or 'inf' for normType but received the string \"Infinity\""],
    ['errorIfNonfinite 1', () => clip.clipGradNorm_([p()], 1, { errorIfNonfinite: 1 as never }), TypeError, 'clipGradNorm_: expected a boolean for errorIfNonfinite but received the number 1'],
    ['foreach 1', () => clip.clipGradNorm_([p()], 1, { foreach: 1 as never }), TypeError, 'clipGradNorm_: expected a boolean for foreach but received the number 1'],
    ['parameters null', () => clip.clipGradNorm_(null as never, 1), TypeError, 'clipGradNorm_: expected a Tensor or an iterable of Tensors but received null'],
    ['parameters a string', () => clip.clipGradNorm_('ab' as never, 1), TypeError, 'clipGradNorm_: expected a Tensor or an iterable of Tensors but received the string "ab"'],
    ['parameters a plain object', () => clip.clipGradNorm_({} as never, 1), TypeError, 'clipGradNorm_: expected a Tensor or an iterable of Tensors but received an object (Object)'],
    ['a parameter that is a number', () => clip.clipGradNorm_([p(), 3 as never], 1), TypeError, 'clipGradNorm_: expected Tensors but one parameter is the number 3'],
    ['clipValue NaN', () => clip.clipGradValue_([p()], NaN), TypeError, 'clipGradValue_: expected a number for clipValue but received NaN'],
    ["clipValue '1'", () => clip.clipGradValue_([p()], '1' as never), TypeError, 'clipGradValue_: expected a number for clipValue but received the string "1"'],
    ["clipGradValue_ foreach 'x'", () => clip.clipGradValue_([p()], 1, { foreach: 'x' as never }), TypeError, 'clipGradValue_: expected a boolean for foreach but received the string "x"'],
    ['clipGradValue_ parameters a number', () => clip.clipGradValue_(5 as never, 1), TypeError, 'clipGradValue_: expected a Tensor or an iterable of Tensors but received the number 5'],
    ['clipGradValue_ a parameter that is null', () => clip.clipGradValue_([null as never], 1), TypeError, 'clipGradValue_: expected Tensors but one parameter is null'],
  ];
  it.each(rejections)('%s is rejected', (_, fn, cls, message) => expectError(fn, cls, message));

  it('a rejected call leaves the gradients alone', () => {
    const a = p();
    expect(thrown(() => clip.clipGradNorm_([a, 3 as never], 0.1))).toBeInstanceOf(TypeError);
    expect(thrown(() => clip.clipGradValue_([a], NaN))).toBeInstanceOf(TypeError);
    expect(a.grad?.toArray()).toEqual([1, 2]);
  });

  /** Gradients [3, -4] and [12] (total 2-norm 13), and a parameter without a gradient. */
  const grads = (): Tensor[] => {
    const a = torch.zeros(2).requiresGrad_(true);
    const b = torch.zeros(1).requiresGrad_(true);
    const c = torch.zeros(3).requiresGrad_(true);
    a.grad = f32([3, -4]);
    b.grad = f32([12]);
    return [a, b, c];
  };
  // PyTorch: clip_grad_norm_([a, b, c], 6.5, norm_type=...) → (total, a.grad.tolist(), b.grad.tolist())
  const NORMS: [string, number | 'inf', number, number[], number[]][] = [
    ['2', 2, 13, [1.4999998807907104, -1.9999998807907104], [5.999999523162842]],
    ['1', 1, 19, [1.026315689086914, -1.3684208393096924], [4.105262756347656]],
    ["'inf'", 'inf', 12, [1.6249998807907104, -2.1666665077209473], [6.499999523162842]],
    ['Infinity', Infinity, 12, [1.6249998807907104, -2.1666665077209473], [6.499999523162842]],
    ['3', 3, 12.207056045532227, [1.5974366664886475, -2.129915475845337], [6.38974666595459]],
  ];
  it.each(NORMS)("clipGradNorm_ with normType %s returns PyTorch's total norm and scales as PyTorch", (_, normType, total, ga, gb) => {
    const [a, b, c] = grads();
    const t = clip.clipGradNorm_([a, b, c], 6.5, { normType });
    expect([t.item(), t.dtype, t.shape]).toEqual([total, 'float32', []]);
    expect([a.grad?.toArray(), b.grad?.toArray(), c.grad]).toEqual([ga, gb, null]);
  });

  it("the default normType is 2 (also for null); foreach: false gives the same; maxNorm at and below the norm (PyTorch's values)", () => {
    const [a, b] = grads();
    expect(clip.clipGradNorm_([a, b], 6.5, { normType: null as never, foreach: false }).item()).toBe(13);
    expect([a.grad?.toArray(), b.grad?.toArray()]).toEqual([[1.4999998807907104, -1.9999998807907104], [5.999999523162842]]);
    // PyTorch: max_norm 13 → [2.999999761581421, -3.999999761581421] [11.999999046325684];
    //          max_norm 12 → [2.769230604171753, -3.692307472229004] [11.076922416687012]; max_norm 100 → unchanged
    const at = grads();
    expect(clip.clipGradNorm_(at, 13).item()).toBe(13);
    expect([at[0].grad?.toArray(), at[1].grad?.toArray()]).toEqual([[2.999999761581421, -3.999999761581421], [11.999999046325684]]);
    const below = grads();
    expect(clip.clipGradNorm_(below, 12, null as never).item()).toBe(13);
    expect([below[0].grad?.toArray(), below[1].grad?.toArray()]).toEqual([[2.769230604171753, -3.692307472229004], [11.076922416687012]]);
    const above = grads();
    expect(clip.clipGradNorm_(above, 100, { foreach: null }).item()).toBe(13);
    expect([above[0].grad?.toArray(), above[1].grad?.toArray()]).toEqual([[3, -4], [12]]);
    expect(clip.clipGradNorm_([], 1).item()).toBe(0);
  });

  it("errorIfNonfinite: PyTorch's message naming the norm's order; false (the default) returns the non-finite norm", () => {
    const a = torch.zeros(2).requiresGrad_(true);
    a.grad = f32([Infinity, 1]);
    const tail = 'for gradients from `parameters` is non-finite, so it cannot be clipped. To disable this error and scale the gradients by the non-finite norm anyway, set errorIfNonfinite: false';
    // PyTorch's ends "set `error_if_nonfinite=False`"
    expectError(() => clip.clipGradNorm_([a], 1, { errorIfNonfinite: true }), TorchError, `The total norm of order 2.0 ${tail}`);
    expectError(() => clip.clipGradNorm_([a], 1, { normType: 'inf', errorIfNonfinite: true }), TorchError, `The total norm of order inf ${tail}`);
    expect(clip.clipGradNorm_([a], 1, { errorIfNonfinite: false }).item()).toBe(Infinity);
  });

  it('the gradient handles taken for a call are freed when it returns: only the total norm stays', () => {
    const ps = grads();
    const before = torch.memory().liveTensors;
    clip.clipGradValue_(ps, 1);
    expect(torch.memory().liveTensors).toBe(before);
    const total = clip.clipGradNorm_(ps, 1);
    expect(torch.memory().liveTensors).toBe(before + 1);
    total.dispose();
  });

  it("clipGradValue_ clamps both sides and returns nothing (PyTorch: clip_grad_value_([a, b], 3.5) → None, [3.0, -3.5], [3.5])", () => {
    const [a, b, c] = grads();
    expect(clip.clipGradValue_([a, b, c], 3.5)).toBeUndefined();
    expect([a.grad?.toArray(), b.grad?.toArray(), c.grad]).toEqual([[3, -3.5], [3.5], null]);
    const [d] = grads();
    clip.clipGradValue_(d, 3, { foreach: false });
    expect(d.grad?.toArray()).toEqual([3, -3]);
    const [e] = grads();
    clip.clipGradValue_([e], 10, null as never);
    expect(e.grad?.toArray()).toEqual([3, -4]);
  });
});

// ---- hooks -------------------------------------------------------------------------------------------------------

describe('hook registration and backward hook returns, word for word', () => {
  const lin = (): nn.Linear => new nn.Linear(4, 3);
  const rejections: Rejection[] = [
    ['a forward hook that is a number', () => lin().registerForwardHook(3 as never), TypeError, 'registerForwardHook expects a function but received the number 3'],
    ['a forward pre-hook that is a string', () => lin().registerForwardPreHook('h' as never), TypeError, 'registerForwardPreHook expects a function but received the string "h"'],
    ['a backward hook that is null', () => lin().registerFullBackwardHook(null as never), TypeError, 'registerFullBackwardHook expects a function but received null'],
    ['a backward pre-hook that is undefined', () => lin().registerFullBackwardPreHook(undefined as never), TypeError, 'registerFullBackwardPreHook expects a function but received undefined'],
    ["forward pre-hook options 'prepend'", () => lin().registerForwardPreHook(() => undefined, 'prepend' as never), TypeError, 'registerForwardPreHook: expected an options object but received the string "prepend"'],
    ['forward hook options 1', () => lin().registerForwardHook(() => undefined, 1 as never), TypeError, 'registerForwardHook: expected an options object but received the number 1'],
    ['backward hook options null', () => lin().registerFullBackwardHook(() => undefined, null as never), TypeError, 'registerFullBackwardHook: expected an options object but received null'],
    ['backward pre-hook options true', () => lin().registerFullBackwardPreHook(() => undefined, true as never), TypeError, 'registerFullBackwardPreHook: expected an options object but received a boolean true'],
  ];
  it.each(rejections)('%s is rejected', (_, fn, cls, message) => expectError(fn, cls, message));

  /** Runs a backward through `m` with an input that requires grad (or not). */
  const backward = (m: nn.Linear, inputGrad = true): void => m.call(torch.randn(2, 4).requiresGrad_(inputGrad)).sum().backward();

  const RETURNS: Rejection[] = [
    ['a backward hook returning a tensor', () => {
      const m = lin();
      m.registerFullBackwardHook(() => torch.ones(2, 4) as never);
      backward(m);
    }, TorchError, 'Backward hook returned an invalid number of grad_input, got a non-array, but expected 1'],
    ['a backward pre-hook returning a tensor', () => {
      const m = lin();
      m.registerFullBackwardPreHook(() => torch.ones(2, 3) as never);
      backward(m);
    }, TorchError, 'Backward pre hook returned an invalid number of grad_output, got a non-array, but expected 1'],
    ['a backward hook returning [3]', () => {
      const m = lin();
      m.registerFullBackwardHook(() => [3 as never]);
      backward(m);
    }, TypeError, 'backward hook: expected Tensors or null'],
    ['a backward pre-hook returning [3]', () => {
      const m = lin();
      m.registerFullBackwardPreHook(() => [3 as never]);
      backward(m);
    }, TypeError, 'backward pre-hook: expected Tensors or null'],
    ['a backward hook returning 5 where no input requires grad', () => {
      const m = lin();
      m.registerFullBackwardHook(() => 5 as never);
      backward(m, false);
    }, TorchError, 'Backward hook for Modules where no input requires gradient should always return None or None for all gradients.'],
    ['a backward hook returning [null, tensor] where no input requires grad', () => {
      const m = lin();
      m.registerFullBackwardHook(() => [null, torch.ones(1)]);
      backward(m, false);
    }, TorchError, 'Backward hook for Modules where no input requires gradient should always return None or None for all gradients.'],
  ];
  it.each(RETURNS)('%s is rejected', (_, fn, cls, message) => expectError(fn, cls, message));

  it('where no input requires grad, a hook may return nothing, [], [null] or [undefined]', () => {
    for (const r of [undefined, [], [null], [undefined]]) {
      const m = lin();
      let ran = 0;
      m.registerFullBackwardHook(() => {
        ran++;
        return r as never;
      });
      backward(m, false);
      expect(ran).toBe(1);
      expect(m.weight.grad).not.toBeNull();
    }
  });

  it("a backward hook returning [null] leaves the input without a gradient; [null] from a pre-hook leaves the module's parameters without one and the input with zeros (as PyTorch)", () => {
    const m = lin();
    m.registerFullBackwardHook(() => [null]);
    const x = torch.randn(2, 4).requiresGrad_(true);
    m.call(x).sum().backward();
    // PyTorch: x.grad is None, the weight has its gradient
    expect(x.grad).toBeNull();
    expect(m.weight.grad).not.toBeNull();
    const pre = lin();
    pre.registerFullBackwardPreHook(() => [null]);
    const y = torch.randn(2, 4).requiresGrad_(true);
    pre.call(y).sum().backward();
    // PyTorch: y.grad is zeros of y's shape, pre.weight.grad is None
    expect([y.grad?.toArray(), pre.weight.grad]).toEqual([[[0, 0, 0, 0], [0, 0, 0, 0]], null]);
    const undef = lin();
    undef.registerFullBackwardHook(() => [undefined as never]);
    const z = torch.randn(2, 4).requiresGrad_(true);
    undef.call(z).sum().backward();
    expect([z.grad, undef.weight.grad === null]).toEqual([null, false]); // undefined reads as null
  });
});

// ---- edges of registration, containers and state dicts -----------------------------------------------------------

describe('edges: mixed arrays and objects, registered properties, insert(0), lower-rank checkpoints', () => {
  it('an array or object holding any Module or Parameter is refused, mixed with other values too; a class instance is a plain field', () => {
    expectError(() => (fields(new Net()).arr = [3, new nn.ReLU()]), TypeError,
      'Net.arr: an array of Modules is not registered: assign an nn.ModuleList (new nn.ModuleList([...])) so that its modules and parameters are');
    expectError(() => (fields(new Net()).obj = { n: 1, p: nn.Parameter(torch.ones(1)) }), TypeError,
      'Net.obj: an object of Parameters is not registered: assign an nn.ParameterDict (new nn.ParameterDict({...}))');
    class Holder {
      inner = new nn.ReLU();
    }
    const m = new Net();
    const holder = new Holder();
    fields(m).holder = holder; // not a plain object: kept as a field, unregistered (as PyTorch keeps any attribute)
    expect([fields(m).holder, layout(m)]).toEqual([holder, ['fc:Linear']]);
  });

  it('registered names are ordinary properties: enumerable, reassignable and deletable', () => {
    const m = new nn.Module();
    const [relu, tanh] = [new nn.ReLU(), new nn.Tanh()];
    m.registerModule('act', relu);
    m.registerParameter('w', nn.Parameter(torch.ones(1)));
    m.registerBuffer('b', torch.zeros(1));
    expect(Object.keys(m).filter((k) => ['act', 'w', 'b'].includes(k))).toEqual(['act', 'w', 'b']);
    fields(m).act = tanh;
    const w2 = nn.Parameter(torch.ones(2));
    fields(m).w = w2;
    const b2 = torch.ones(3);
    fields(m).b = b2;
    expect([fields(m).act, fields(m).w, fields(m).b, m.getSubmodule('act'), m.getParameter('w'), m.getBuffer('b')]).toEqual([tanh, w2, b2, tanh, w2, b2]);
    for (const k of ['act', 'w', 'b']) delete fields(m)[k];
    expect([Object.keys(m.stateDict()), layout(m), 'act' in m, 'w' in m, 'b' in m]).toEqual([[], [], false, false, false]);
  });

  it('buffers() and parameters() recurse by default', () => {
    const s = new Shared();
    expect(s.buffers().length).toBe(2); // persistent or not
    const outer = new nn.Sequential(new nn.BatchNorm1d(3));
    expect([outer.buffers().length, outer.buffers(false).length, outer.parameters().length, outer.parameters(false).length]).toEqual([3, 0, 2, 0]);
  });

  it('Sequential.insert(0) puts the module first, insert(n) last (PyTorch)', () => {
    const s = mlp();
    const first = new nn.Tanh();
    s.insert(0, first);
    const last = new nn.Sigmoid();
    s.insert(4, last);
    expect([s.at(0), s.at(-1), s.length]).toEqual([first, last, 5]);
  });

  it('Sequential refuses a non-module first argument that is not a dictionary of modules', () => {
    expectError(() => new nn.Sequential(5 as never), TypeError, 'Sequential expects Modules but received the number 5');
    expectError(() => new nn.Sequential({} as never, new nn.ReLU()), TypeError, 'Sequential expects Modules but received an object (Object)');
    expect(layout(new nn.Sequential({ a: new nn.ReLU() } as never))).toEqual(['a:ReLU']);
  });

  it('ModuleDict pairs must be [key, module]; extend(undefined) names what it got', () => {
    expectError(() => new nn.ModuleDict([['a', new nn.ReLU(), 'x']] as never), TypeError,
      'ModuleDict expects an object or an iterable of [key, module] pairs but received an iterable holding an array');
    expectError(() => new nn.ParameterList().extend(undefined as never), TypeError, 'ParameterList.extend expects an iterable of Tensors but received undefined');
  });

  it('a checkpoint tensor of lower rank is a size mismatch even when its sizes match the first ones', () => {
    const lin = new nn.Linear(3, 2);
    // PyTorch: 'size mismatch for weight: copying a param with shape torch.Size([2]) from checkpoint, the shape in current model is torch.Size([2, 3]).'
    expectError(() => lin.loadStateDict({ weight: torch.zeros(2), bias: torch.zeros(2) }), TorchError,
      'Error(s) in loading state_dict for Linear:\n\tsize mismatch for weight: copying a param with shape [2] from checkpoint, the shape in current model is [2, 3].');
  });

  it("ParameterDict prints each dtype's tensor type name (PyTorch's printout)", () => {
    const dtypes = ['float16', 'bfloat16', 'int64', 'int32', 'int16', 'int8', 'uint8', 'bool'] as const;
    const d = new nn.ParameterDict(dtypes.map((dt, i) => [`p${i}`, nn.Parameter(torch.zeros([2], { dtype: dt }), false)] as [string, Tensor]));
    // PyTorch 2.13: print(nn.ParameterDict({f'p{i}': nn.Parameter(torch.zeros(2, dtype=t), requires_grad=False) ...}))
    expect(String(d)).toBe(
      'ParameterDict(\n' +
        ['HalfTensor', 'BFloat16Tensor', 'LongTensor', 'IntTensor', 'ShortTensor', 'CharTensor', 'ByteTensor', 'BoolTensor']
          .map((t, i) => `    (p${i}): Parameter containing: [torch.${t} of size 2]\n`)
          .join('') +
        ')',
    );
  });
});

describe('nn.init: arguments and the truncated normal warning', () => {
  const w = (): Tensor => torch.empty(3, 4);
  const rejections: Rejection[] = [
    ['uniform_ with a non-tensor', () => nn.init.uniform_(5 as never), TypeError, 'nn.init.uniform_: expected a Tensor but received the number 5'],
    ['uniform_ with a string a', () => nn.init.uniform_(w(), 'x' as never), TypeError, 'nn.init.uniform_: expected a number for a but received the string "x"'],
    ['uniform_ with a string b', () => nn.init.uniform_(w(), 0, 'y' as never), TypeError, 'nn.init.uniform_: expected a number for b but received the string "y"'],
    ['uniform_ with an unknown option', () => nn.init.uniform_(w(), { c: 1 } as never), TypeError, "nn.init.uniform_: got an unexpected option 'c' (it takes 'a', 'b')"],
    ['normal_ with null', () => nn.init.normal_(null as never), TypeError, 'nn.init.normal_: expected a Tensor but received null'],
    ['normal_ with a string mean', () => nn.init.normal_(w(), 'x' as never), TypeError, 'nn.init.normal_: expected a number for mean but received the string "x"'],
    ['normal_ with a string std', () => nn.init.normal_(w(), 0, 'y' as never), TypeError, 'nn.init.normal_: expected a number for std but received the string "y"'],
    ['normal_ with three numbers', () => (nn.init.normal_ as (...a: unknown[]) => Tensor)(w(), 0, 1, 2), TypeError, 'nn.init.normal_: takes 2 positional arguments after the first but 3 were given'],
    ['truncNormal_ with a string', () => nn.init.truncNormal_('w' as never), TypeError, 'nn.init.truncNormal_: expected a Tensor but received the string "w"'],
    ['truncNormal_ with a string mean', () => nn.init.truncNormal_(w(), 'x' as never), TypeError, 'nn.init.truncNormal_: expected a number for mean but received the string "x"'],
    ['truncNormal_ with a string std', () => nn.init.truncNormal_(w(), 0, 'y' as never), TypeError, 'nn.init.truncNormal_: expected a number for std but received the string "y"'],
    ['truncNormal_ with a string a', () => nn.init.truncNormal_(w(), 0, 1, 'z' as never), TypeError, 'nn.init.truncNormal_: expected a number for a but received the string "z"'],
    ['truncNormal_ with a string b', () => nn.init.truncNormal_(w(), 0, 1, -2, 'q' as never), TypeError, 'nn.init.truncNormal_: expected a number for b but received the string "q"'],
    ['calculateFanInAndFanOut of a number', () => nn.init.calculateFanInAndFanOut(3 as never), TypeError, 'nn.init.calculateFanInAndFanOut: expected a Tensor but received the number 3'],
    ['constant_ of a number', () => nn.init.constant_(5 as never, 1), TypeError, 'nn.init.constant_: expected a Tensor but received the number 5'],
    ['constant_ with a string val', () => nn.init.constant_(w(), 'v' as never), TypeError, 'nn.init.constant_: expected a number for val but received the string "v"'],
    ['constant_ without val', () => (nn.init.constant_ as (t: Tensor) => Tensor)(w()), TypeError, "nn.init.constant_: missing required argument 'val'"],
    ['constant_ with an unknown option', () => nn.init.constant_(w(), { x: 1 } as never), TypeError, "nn.init.constant_: got an unexpected option 'x' (it takes 'val')"],
    ['ones_ of a string', () => nn.init.ones_('a' as never), TypeError, 'nn.init.ones_: expected a Tensor but received the string "a"'],
    ['zeros_ of a string', () => nn.init.zeros_('a' as never), TypeError, 'nn.init.zeros_: expected a Tensor but received the string "a"'],
    ['eye_ of a string', () => nn.init.eye_('a' as never), TypeError, 'nn.init.eye_: expected a Tensor but received the string "a"'],
    ['dirac_ of a string', () => nn.init.dirac_('a' as never), TypeError, 'nn.init.dirac_: expected a Tensor but received the string "a"'],
    ['dirac_ with string groups', () => nn.init.dirac_(torch.empty(2, 2, 3), 'g' as never), TypeError, 'nn.init.dirac_: expected a number for groups but received the string "g"'],
    // PyTorch's ValueErrors, word for word:
    ['dirac_ of a 6-D tensor', () => nn.init.dirac_(torch.empty(2, 2, 2, 2, 2, 2)), TorchError, 'Only tensors with 3, 4, or 5 dimensions are supported'],
    ['dirac_ of 3 output channels in 2 groups', () => nn.init.dirac_(torch.empty(3, 2, 3), 2), TorchError, 'dim 0 must be divisible by groups'],
    ['sparse_ of a 3-D tensor', () => nn.init.sparse_(torch.empty(3, 2, 3), 0.5), TorchError, 'Only tensors with 2 dimensions are supported'],
    ['orthogonal_ of a string', () => nn.init.orthogonal_('a' as never), TypeError, 'nn.init.orthogonal_: expected a Tensor but received the string "a"'],
    ['orthogonal_ with a string gain', () => nn.init.orthogonal_(w(), 'g' as never), TypeError, 'nn.init.orthogonal_: expected a number for gain but received the string "g"'],
    ['sparse_ of a string', () => nn.init.sparse_('a' as never, 0.5), TypeError, 'nn.init.sparse_: expected a Tensor but received the string "a"'],
    ['sparse_ without sparsity', () => (nn.init.sparse_ as (t: Tensor) => Tensor)(w()), TypeError, "nn.init.sparse_: missing required argument 'sparsity'"],
    ['sparse_ with a string sparsity', () => nn.init.sparse_(w(), 's' as never), TypeError, 'nn.init.sparse_: expected a number for sparsity but received the string "s"'],
    ['sparse_ with a string std', () => nn.init.sparse_(w(), 0.5, 'd' as never), TypeError, 'nn.init.sparse_: expected a number for std but received the string "d"'],
    ['xavierUniform_ of a string', () => nn.init.xavierUniform_('a' as never), TypeError, 'nn.init.xavierUniform_: expected a Tensor but received the string "a"'],
    ['xavierUniform_ with a string gain', () => nn.init.xavierUniform_(w(), 'g' as never), TypeError, 'nn.init.xavierUniform_: expected a number for gain but received the string "g"'],
    ['xavierNormal_ of a string', () => nn.init.xavierNormal_('a' as never), TypeError, 'nn.init.xavierNormal_: expected a Tensor but received the string "a"'],
    ['xavierNormal_ with a string gain', () => nn.init.xavierNormal_(w(), 'g' as never), TypeError, 'nn.init.xavierNormal_: expected a number for gain but received the string "g"'],
    ['kaimingUniform_ of a string', () => nn.init.kaimingUniform_('a' as never), TypeError, 'nn.init.kaimingUniform_: expected a Tensor but received the string "a"'],
    ['kaimingUniform_ with a string a', () => nn.init.kaimingUniform_(w(), 'g' as never), TypeError, 'nn.init.kaimingUniform_: expected a number for a but received the string "g"'],
    ['kaimingNormal_ of a string', () => nn.init.kaimingNormal_('a' as never), TypeError, 'nn.init.kaimingNormal_: expected a Tensor but received the string "a"'],
    ['kaimingNormal_ with a string a', () => nn.init.kaimingNormal_(w(), 'g' as never), TypeError, 'nn.init.kaimingNormal_: expected a number for a but received the string "g"'],
    ['kaimingNormal_ with an unknown option', () => nn.init.kaimingNormal_(w(), { q: 1 } as never), TypeError, "nn.init.kaimingNormal_: got an unexpected option 'q' (it takes 'a', 'mode', 'nonlinearity')"],
  ];
  it.each(rejections)('%s is rejected', (_, fn, cls, message) => expectError(fn, cls, message));

  it("warns, as PyTorch, when the mean is more than 2 std outside [a, b], on either side, and not at 2 std", () => {
    const spy = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      const text = 'mean is more than 2 std from [a, b] in nn.init.trunc_normal_. The distribution of values may be incorrect.';
      const warnedFor = (mean: number, std: number): boolean => {
        spy.mockClear();
        nn.init.truncNormal_(w(), mean, std, -2, 2);
        expect(spy.mock.calls.every((c) => c[0] === text)).toBe(true);
        return spy.mock.calls.length === 1;
      };
      // -2 - 2·std and 2 + 2·std are the edges: PyTorch's test is strict.
      expect([warnedFor(10, 1), warnedFor(-10, 1), warnedFor(4, 1), warnedFor(4.01, 1), warnedFor(-4, 1), warnedFor(-4.01, 1)]).toEqual([true, true, false, true, false, true]);
      expect([warnedFor(5, 0.5), warnedFor(6, 2), warnedFor(-3.5, 0.5), warnedFor(-2.9, 0.5)]).toEqual([true, false, true, false]);
    } finally {
      spy.mockRestore();
    }
  });
});

describe('nn.init on tensors without elements, as PyTorch', () => {
  it('orthogonal_ hands an empty tensor back untouched; the Kaiming initialisers warn and leave it', () => {
    const e = torch.empty(0, 3);
    expect(nn.init.orthogonal_(e)).toBe(e);
    const spy = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      expect(nn.init.kaimingNormal_(torch.empty(0, 4)).shape).toEqual([0, 4]);
      expect(nn.init.kaimingUniform_(torch.empty(3, 0)).shape).toEqual([3, 0]);
      // The bias of a layer with no inputs: bound 0 (fan_in 0), so zeros, as PyTorch's reset_parameters.
      const weight = torch.empty(3, 0);
      const bias = torch.full([3], 7.5);
      resetLinearLike(weight, bias);
      expect(bias.toArray()).toEqual([0, 0, 0]);
      expect(spy.mock.calls.map((c) => c[0])).toEqual(Array(3).fill('Initializing zero-element tensors is a no-op'));
    } finally {
      spy.mockRestore();
    }
  });

  it('nn.Linear(0, n) is made as in PyTorch: an empty weight, a +0.0 bias, the same draws from the generator', () => {
    const spy = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      torch.manualSeed(0);
      const l = new nn.Linear(0, 3);
      expect([l.weight.shape, (l.bias!.toArray() as number[]).map((v) => Object.is(v, 0)), String(l)]).toEqual([[3, 0], [true, true, true], 'Linear(in_features=0, out_features=3, bias=True)']);
      // PyTorch: torch.manual_seed(0); nn.Linear(0, 3); torch.rand(2) -> [0.13203048706054688, 0.30742281675338745]
      // (the bias's uniform_(0, 0) draws three numbers, the empty weight none).
      expect(torch.rand(2).toArray()).toEqual([0.13203048706054688, 0.30742281675338745]);
      expect(l.call(torch.ones(2, 0)).toArray()).toEqual([[0, 0, 0], [0, 0, 0]]);
      expect(spy.mock.calls.map((c) => c[0])).toEqual(['Initializing zero-element tensors is a no-op']);
      torch.manualSeed(0);
      const d = new nn.Linear(0, 3, { dtype: 'float64' });
      expect([d.weight.dtype, d.weight.shape, d.bias!.toArray()]).toEqual(['float64', [3, 0], [0, 0, 0]]);
      // PyTorch: the same with dtype=torch.float64 (float64 draws take more of the generator's stream).
      expect(torch.rand(2).toArray()).toEqual([0.4900934100151062, 0.8964447379112244]);
      const nb = new nn.Linear(0, 2, { bias: false });
      expect([nb.bias, nb.call(torch.ones(4, 0)).shape]).toEqual([null, [4, 2]]);
    } finally {
      spy.mockRestore();
    }
  });

  it('dirac_ fills a 5-D weight with centred ones per channel', () => {
    const d = nn.init.dirac_(torch.empty(2, 2, 3, 3, 3));
    // PyTorch: d.sum() 2.0, d[1,1,1,1,1] 1.0, d[0,1].sum() 0.0.
    expect([d.sum().item(), d.select(0, 1).select(0, 1).select(0, 1).select(0, 1).select(0, 1).item(), d.select(0, 0).select(0, 1).sum().item()]).toEqual([2, 1, 0]);
  });
});

describe("layers' printout: Python's repr of the values in extra_repr", () => {
  // What Python's repr() prints for each (checked with python3: repr(float), repr(None), repr(True), repr('zeros')).
  const floats: [number, string][] = [
    [0.1, '0.1'], [1.0, '1.0'], [-0.0, '-0.0'], [0.0, '0.0'], [1e-5, '1e-05'], [2.5e-5, '2.5e-05'], [0.0001, '0.0001'],
    [0.00011, '0.00011'], [1e16, '1e+16'], [9999999999999998, '9999999999999998.0'], [1.5e300, '1.5e+300'],
    [-3e-7, '-3e-07'], [123456789012345, '123456789012345.0'], [Infinity, 'inf'], [-Infinity, '-inf'], [NaN, 'nan'],
    [1e22, '1e+22'], [5e-324, '5e-324'],
  ];
  it('floats: shortest digits, scientific below 1e-4 and from 1e16 with two-digit exponents, inf and nan', () => {
    expect(floats.map(([v]) => pyFloat(v))).toEqual(floats.map(([, r]) => r));
  });
  it('None, booleans, strings, tuples, integers and floats', () => {
    expect([null, undefined, true, false, 'zeros', [3, 3], [1], -0, 7, 0.5, 1e-5].map((v) => py(v))).toEqual([
      'None', 'None', 'True', 'False', "'zeros'", '(3, 3)', '(1,)', '-0.0', '7', '0.5', '1e-05',
    ]);
  });
  it('in a printed layer, as PyTorch prints it', () => {
    // repr(nn.LeakyReLU(-0.0)), repr(nn.Dropout(1e-5)), repr(nn.ELU(alpha=-0.0)) in PyTorch.
    expect([String(new nn.LeakyReLU(-0.0)), String(new nn.Dropout(1e-5)), String(new nn.ELU({ alpha: -0.0 }))]).toEqual([
      'LeakyReLU(negative_slope=-0.0)',
      'Dropout(p=1e-05, inplace=False)',
      'ELU(alpha=-0.0)',
    ]);
  });
});

describe('normalisation layers: input checks and running statistics, as PyTorch', () => {
  // Messages and values from PyTorch 2.13 (nn.InstanceNorm*d, nn.BatchNorm3d, nn.BatchNorm1d(momentum=None)).
  const rejections: Rejection[] = [
    ['InstanceNorm2d of a 2-D input', () => new nn.InstanceNorm2d(3).call(torch.ones(2, 2)), TorchError, 'expected 3D or 4D input (got 2D input)'],
    ['InstanceNorm1d of a 4-D input', () => new nn.InstanceNorm1d(3).call(torch.ones(2, 3, 4, 5)), TorchError, 'expected 2D or 3D input (got 4D input)'],
    ['InstanceNorm3d of a 2-D input', () => new nn.InstanceNorm3d(3).call(torch.ones(2, 3)), TorchError, 'expected 4D or 5D input (got 2D input)'],
    [
      'an affine InstanceNorm2d of 4 channels where 3 were declared',
      () => new nn.InstanceNorm2d(3, { affine: true }).call(torch.ones(2, 4, 5, 5)),
      TorchError,
      "expected input's size at dim=1 to match num_features (3), but got: 4.",
    ],
    ['BatchNorm3d of a 4-D input', () => new nn.BatchNorm3d(3).call(torch.ones(2, 3, 4, 4)), TorchError, 'expected 5D input (got 4D input)'],
    ['GroupNorm of 0 groups', () => new nn.GroupNorm(0, 4), TorchError, 'num_channels (4) must be divisible by num_groups (0)'],
    ['GroupNorm of -2 groups', () => new nn.GroupNorm(-2, 4), TorchError, 'num_channels (4) must be divisible by num_groups (-2)'],
  ];
  it.each(rejections)('%s is rejected', (_, fn, cls, message) => expectError(fn, cls, message));

  it('a non-affine InstanceNorm of other channels warns and normalises, batched or not', () => {
    const spy = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      const m = new nn.InstanceNorm2d(3);
      expect(m.call(torch.ones(2, 4, 5, 5)).shape).toEqual([2, 4, 5, 5]);
      expect(m.call(torch.ones(4, 5, 5)).shape).toEqual([4, 5, 5]);
      const tail = ' does not match num_features. You can silence this warning by not passing in num_features, which is not used because affine=False';
      expect(spy.mock.calls.map((c) => c[0])).toEqual([`input's size at dim=1${tail}`, `input's size at dim=0${tail}`]);
    } finally {
      spy.mockRestore();
    }
  });

  it('momentum=null averages the running statistics over the batches, and resetRunningStats starts them again', () => {
    const bn = new nn.BatchNorm1d(3, { momentum: null });
    for (let i = 0; i < 3; i++) bn.call(torch.arange(12, { dtype: 'float32' }).reshape(4, 3).mul(i + 1));
    expect([bn.runningMean?.toArray(), bn.runningVar?.toArray(), bn.numBatchesTracked?.item()]).toEqual([[9, 11, 13], [70, 70, 70], 3]);
    bn.resetRunningStats();
    expect([bn.runningMean?.toArray(), bn.runningVar?.toArray(), bn.numBatchesTracked?.item()]).toEqual([[0, 0, 0], [1, 1, 1], 0]);
    const untracked = new nn.BatchNorm1d(3, { trackRunningStats: false });
    untracked.resetRunningStats();
    expect([untracked.runningMean, untracked.runningVar, untracked.numBatchesTracked]).toEqual([null, null, null]);
  });

  it('resetRunningStats and resetParameters on the native BatchNorm1d/2d and on BatchNorm3d', () => {
    const layers = [
      [new nn.BatchNorm1d(2), torch.arange(8, { dtype: 'float32' }).reshape(4, 2)],
      [new nn.BatchNorm2d(2), torch.arange(16, { dtype: 'float32' }).reshape(2, 2, 2, 2)],
      [new nn.BatchNorm3d(2), torch.arange(32, { dtype: 'float32' }).reshape(2, 2, 2, 2, 2)],
    ] as const;
    for (const [bn, x] of layers) {
      bn.call(x);
      torch.noGrad(() => {
        bn.weight?.fill_(2);
        bn.bias?.fill_(3);
      });
      expect(bn.numBatchesTracked?.item()).toBe(1);
      expect(bn.runningMean?.toArray()).not.toEqual([0, 0]);
      bn.resetRunningStats();
      expect([bn.runningMean?.toArray(), bn.runningVar?.toArray(), bn.numBatchesTracked?.item(), bn.weight?.toArray()]).toEqual([[0, 0], [1, 1], 0, [2, 2]]);
      bn.call(x);
      bn.resetParameters();
      expect([bn.runningMean?.toArray(), bn.runningVar?.toArray(), bn.numBatchesTracked?.item(), bn.weight?.toArray(), bn.bias?.toArray()]).toEqual([[0, 0], [1, 1], 0, [1, 1], [0, 0]]);
    }
  });
});

describe('loss modules: the weight buffers PyTorch registers', () => {
  it('only losses that take a weight have the attribute (None when not given); posWeight only for BCEWithLogitsLoss', () => {
    // hasattr(nn.MSELoss(), 'weight') is False in PyTorch; nn.CrossEntropyLoss().weight is None.
    const attrs = (m: object): unknown[] => ['weight', 'pos_weight'].map((k) => (k in m ? (m as Record<string, unknown>)[k] : 'absent'));
    expect(attrs(new nn.MSELoss())).toEqual(['absent', 'absent']);
    expect(attrs(new nn.CrossEntropyLoss())).toEqual([null, 'absent']);
    expect(attrs(new nn.BCEWithLogitsLoss())).toEqual([null, null]);
    const w = torch.tensor([1, 2, 3], { dtype: 'float32' });
    expect(attrs(new nn.NLLLoss({ weight: w }))[0]).toBe(w);
    expect(new nn.NLLLoss({ weight: w }).stateDict()).toHaveProperty('weight');
  });
});

describe('layer checks PyTorch makes, word for word', () => {
  const rejections: Rejection[] = [
    ['BatchNorm1d without bias on a 4-D input', () => new nn.BatchNorm1d(3, { bias: false }).call(torch.ones(2, 3, 4, 5)), TorchError, 'expected 2D or 3D input (got 4D input)'],
    ['BatchNorm2d without bias on a 3-D input', () => new nn.BatchNorm2d(3, { bias: false }).call(torch.ones(2, 3, 4)), TorchError, 'expected 4D input (got 3D input)'],
    ['Conv2d of 3 input channels in 2 groups', () => new nn.Conv2d(3, 4, 3, { groups: 2 }), TorchError, 'in_channels must be divisible by groups'],
    ['Conv2d of 3 output channels in 2 groups', () => new nn.Conv2d(4, 3, 3, { groups: 2 }), TorchError, 'out_channels must be divisible by groups'],
    ['Conv1d of 3 input channels in 2 groups', () => new nn.Conv1d(3, 4, 3, { groups: 2 }), TorchError, 'in_channels must be divisible by groups'],
    ['Conv3d of 3 output channels in 2 groups', () => new nn.Conv3d(4, 3, 3, { groups: 2 }), TorchError, 'out_channels must be divisible by groups'],
    ["padding='same' with a stride of 2 in one dimension", () => new nn.Conv2d(4, 4, 3, { stride: [1, 2], padding: 'same' }), TorchError, "padding='same' is not supported for strided convolutions"],
    ['Dropout(1.5)', () => new nn.Dropout(1.5), TorchError, 'dropout probability has to be between 0 and 1, but got 1.5'],
    ['Dropout(-0.1)', () => new nn.Dropout(-0.1), TorchError, 'dropout probability has to be between 0 and 1, but got -0.1'],
    ['AlphaDropout(1.5)', () => new nn.AlphaDropout(1.5), TorchError, 'dropout probability has to be between 0 and 1, but got 1.5'],
  ];
  it.each(rejections)('%s is rejected', (_, fn, cls, message) => expectError(fn, cls, message));

  it('dropout probabilities 0 and 1 are accepted', () => {
    expect([new nn.Dropout(0).p, new nn.Dropout(1).p, new nn.AlphaDropout(0).p, new nn.AlphaDropout(1).p]).toEqual([0, 1, 0, 1]);
  });

  it('Softmax, LogSoftmax and Softmin without dim pick dim 0 for 0-, 1- and 3-D inputs and 1 otherwise, with the warning', () => {
    const spy = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      const x1 = torch.tensor([1, 2, 3], { dtype: 'float32' });
      const x2 = torch.arange(6, { dtype: 'float32' }).reshape(2, 3);
      const x3 = torch.arange(12, { dtype: 'float32' }).reshape(2, 3, 2);
      const x4 = torch.arange(24, { dtype: 'float32' }).reshape(2, 3, 2, 2);
      // PyTorch 2.13, rounded to 6 places: m(x1), m(x2)[:3], m(x3)[:4].
      const expected: Record<string, number[][]> = {
        Softmax: [[0.090031, 0.244728, 0.665241], [0.090031, 0.244728, 0.665241], [0.002473, 0.002473, 0.002473, 0.002473]],
        LogSoftmax: [[-2.407606, -1.407606, -0.407606], [-2.407606, -1.407606, -0.407606], [-6.002476, -6.002476, -6.002476, -6.002476]],
        Softmin: [[0.665241, 0.244728, 0.090031], [0.665241, 0.244728, 0.090031], [0.997527, 0.997527, 0.997527, 0.997527]],
      };
      const round = (t: Tensor, n: number): number[] => (t.flatten().toArray() as number[]).slice(0, n).map((v) => Math.round(v * 1e6) / 1e6);
      for (const [name, make] of [
        ['Softmax', (dim?: number) => (dim === undefined ? new nn.Softmax() : new nn.Softmax(dim))],
        ['LogSoftmax', (dim?: number) => (dim === undefined ? new nn.LogSoftmax() : new nn.LogSoftmax(dim))],
        ['Softmin', (dim?: number) => (dim === undefined ? new nn.Softmin() : new nn.Softmin(dim))],
      ] as const) {
        const m = make();
        expect([round(m.call(x1), 3), round(m.call(x2), 3), round(m.call(x3), 4)], name).toEqual(expected[name]);
        for (const [x, dim] of [[x1, 0], [x2, 1], [x3, 0], [x4, 1], [torch.tensor(2.5), 0]] as const) {
          expect(m.call(x).toArray(), `${name} of a ${x.ndim}-D input`).toEqual(make(dim).call(x).toArray());
        }
      }
      const texts = new Set(spy.mock.calls.map((c) => c[0]));
      expect([...texts].sort()).toEqual(
        ['log_softmax', 'softmax', 'softmin'].map((n) => `Implicit dimension choice for ${n} has been deprecated. Change the call to include dim=X as an argument.`),
      );
    } finally {
      spy.mockRestore();
    }
  });
});
