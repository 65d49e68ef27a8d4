/**
 * nn.Sequential, nn.ModuleList, nn.ModuleDict, nn.ParameterList and nn.ParameterDict against PyTorch: indexing,
 * slicing, editing (each edit on a fresh container, as in the generator), the resulting child names and state_dict
 * keys, parameters() order, the printout of nested models, and the forward of an edited Sequential; a module assembled
 * with registerModule / addModule / registerParameter / registerBuffer (names, state_dict, printout, isParameter,
 * extraRepr, apply, dtype conversions, requiresGrad_, train/eval).
 * Fixture: scripts/fixtures/gen_nn_modules.py → test/fixtures/nn_modules.json (`containers`).
 * Where torchkd differs from PyTorch the test asserts PyTorch's behaviour and is marked `it.fails` with the reason.
 */
import { describe, expect, it } from 'vitest';

import * as torch from '../lib/index';
import { type Tensor, nn } from '../lib/index';
import { expectTensor, fixture, fromJson, thrown, type TensorJson } from './helpers';

type StateJson = Record<string, TensorJson>;
interface Layout {
  names: string[];
  types: string[];
  keys: string[];
  out?: TensorJson;
  repr?: string;
  popped?: string;
}
interface ErrorJson {
  error: string;
  message: string;
}
interface ContainersFixture {
  containers: {
    sequential: {
      repr: string;
      keys: string[];
      state: StateJson;
      x: TensorJson;
      out: TensorJson;
      types: Record<string, string>;
      index_errors: Record<string, ErrorJson>;
      insert_out_of_range: Record<string, ErrorJson>;
    } & Record<
      | 'slice_1_4'
      | 'slice_from_minus_2'
      | 'slice_to_2'
      | 'setitem'
      | 'setitem_negative'
      | 'append'
      | 'insert'
      | 'insert_negative'
      | 'insert_at_end'
      | 'pop_first'
      | 'pop_last'
      | 'pop_then_append'
      | 'extend'
      | 'del'
      | 'del_negative',
      Layout
    >;
    sequential_named: { keys: string[]; repr: string; slice_keys: string[]; slice_repr: string; state: StateJson };
    sequential_empty: { repr: string };
    module_list: {
      repr: string;
      keys: string[];
      parameters: string[];
      state: StateJson;
      types: Record<string, string>;
      index_error: ErrorJson;
    } & Record<'insert' | 'pop' | 'append_extend' | 'setitem' | 'slice' | 'del', Layout>;
    module_list_empty: { repr: string };
    module_dict: {
      repr: string;
      keys: string[];
      parameters: string[];
      dict_keys: string[];
      state: StateJson;
      after_update: { keys: string[]; dict_keys: string[]; cls_out: number };
      popped: string;
      after_pop: { keys: string[]; dict_keys: string[]; repr: string };
      missing: ErrorJson;
    };
    parameters: {
      repr: string;
      keys: string[];
      parameters: string[];
      state: StateJson;
      requires_grad: boolean[];
      after_append: { keys: string[]; plist_repr: string; pdict_repr: string };
    };
    parameter_list_one: { repr: string };
    parameter_list_empty: { repr: string };
    parameter_dict_float64: { repr: string };
    nested: { repr: string; keys: string[]; parameters: string[]; buffers: string[]; modules: string[]; state: StateJson };
    registered: {
      repr: string;
      keys: string[];
      parameters: string[];
      buffers: string[];
      children: string[];
      state: StateJson;
      buffer_values: TensorJson[];
      is_parameter: Record<string, boolean>;
      extra_repr: Record<'fc' | 'act' | 'root', string>;
      apply_order: string[];
      conversions: Record<'double' | 'half' | 'bfloat16' | 'float' | 'to_float64', { same_module: boolean; dtypes: Record<string, string> }>;
      frozen: boolean[];
      unfrozen: boolean[];
      modes: { eval: boolean[]; train: boolean[] };
    };
  };
}

const fx = fixture<ContainersFixture>('nn_modules').containers;

function check(title: string, fn: () => void, failing?: string): void {
  if (failing) it.fails(`${title} [differs from PyTorch: ${failing}]`, fn);
  else it(title, fn);
}

/** What the generator's layout() records: child names, child types, state_dict keys. */
function layout(m: nn.Module): { names: string[]; types: string[]; keys: string[] } {
  return {
    names: [...m.namedChildren()].map(([n]) => n),
    types: [...m.children()].map((c) => c.constructor.name),
    keys: Object.keys(m.stateDict()),
  };
}

function expectLayout(m: nn.Module, e: Layout): void {
  expect(layout(m)).toEqual({ names: e.names, types: e.types, keys: e.keys });
}

function expectState(actual: Record<string, Tensor>, expected: StateJson): void {
  expect(Object.keys(actual)).toEqual(Object.keys(expected));
  for (const [k, v] of Object.entries(expected)) expectTensor(actual[k], v);
}

// ---- Sequential --------------------------------------------------------------------------------------------------

describe('nn.Sequential as PyTorch', () => {
  const c = fx.sequential;
  const x = fromJson(c.x);
  const makeSeq = (): nn.Sequential => {
    torch.manualSeed(50);
    return new nn.Sequential(new nn.Linear(2, 3), new nn.ReLU(), new nn.Linear(3, 4), new nn.Tanh(), new nn.Linear(4, 1));
  };
  const forward = (s: nn.Sequential): Tensor => s.call(x);

  it('children named 0, 1, ...: seeded state_dict, printout and forward', () => {
    const seq = makeSeq();
    expect(String(seq)).toBe(c.repr);
    expectState(seq.stateDict(), c.state);
    expectTensor(forward(seq), c.out);
    expect(seq.length).toBe(5);
    expect([...seq].map((m) => m.constructor.name)).toEqual(['Linear', 'ReLU', 'Linear', 'Tanh', 'Linear']);
  });

  it('seq[i] and seq.at(i), negative indices from the end', () => {
    const seq = makeSeq();
    for (const [i, t] of Object.entries(c.types)) {
      expect(seq[Number(i)].constructor.name, `seq[${i}]`).toBe(t);
      expect(seq.at(Number(i))).toBe(seq[Number(i)]);
    }
  });

  it('an index out of range is a RangeError (PyTorch: IndexError "index 5 is out of range")', () => {
    const seq = makeSeq();
    for (const [i, e] of Object.entries(c.index_errors)) {
      const err = thrown(() => seq[Number(i)]);
      expect(err).toBeInstanceOf(RangeError);
      expect(err.message).toContain(e.message);
      expect(thrown(() => seq.at(Number(i)))).toBeInstanceOf(RangeError);
    }
    expect(thrown(() => seq.at(1.5))).toBeInstanceOf(TypeError);
  });

  it('slice(a, b) is seq[a:b]: the children keep their names and are shared, not copied', () => {
    const seq = makeSeq();
    const s = seq.slice(1, 4);
    expectLayout(s, c.slice_1_4);
    expect(String(s)).toBe(c.slice_1_4.repr);
    expect(s[0]).toBe(seq[1]);
    expect((s[1] as nn.Linear).weight).toBe((seq[2] as nn.Linear).weight);
    expectLayout(seq.slice(-2), c.slice_from_minus_2);
    expectLayout(seq.slice(undefined, 2), c.slice_to_2);
  });

  it('seq[1] = m replaces the child under the same name; the forward runs the new one', () => {
    const seq = makeSeq();
    seq[1] = new nn.Sigmoid();
    expectLayout(seq, c.setitem);
    expect(String(seq)).toBe(c.setitem.repr);
    expectTensor(forward(seq), c.setitem.out as TensorJson);
    const neg = makeSeq();
    neg[-1] = new nn.Linear(4, 2);
    expectLayout(neg, c.setitem_negative);
    expectTensor(forward(neg), c.setitem_negative.out as TensorJson);
    expect(() => {
      neg[1] = 'relu' as never;
    }).toThrow(TypeError);
  });

  it('append and extend name the new children by their index', () => {
    const a = makeSeq();
    expect(a.append(new nn.Linear(1, 2))).toBe(a);
    expectLayout(a, c.append);
    expectTensor(forward(a), c.append.out as TensorJson);
    const e = makeSeq();
    e.extend([new nn.ReLU(), new nn.Linear(1, 2)]);
    expectLayout(e, c.extend);
    expectTensor(forward(e), c.extend.out as TensorJson);
  });

  it('insert renumbers the children after the index (negative counts from the end)', () => {
    const s = makeSeq();
    s.insert(1, new nn.Identity());
    expectLayout(s, c.insert);
    expectTensor(forward(s), c.insert.out as TensorJson);
    const n = makeSeq();
    n.insert(-1, new nn.Sigmoid());
    expectLayout(n, c.insert_negative);
    expectTensor(forward(n), c.insert_negative.out as TensorJson);
    const end = makeSeq();
    end.insert(5, new nn.Sigmoid());
    expectLayout(end, c.insert_at_end);
  });

  check(
    'insert out of range is a RangeError (PyTorch: IndexError "Index out of range: 6")',
    () => {
      for (const [i, e] of Object.entries(c.insert_out_of_range)) {
        const err = thrown(() => makeSeq().insert(Number(i), new nn.ReLU()));
        expect(err).toBeInstanceOf(RangeError);
        expect(err.message).toContain(e.message);
      }
    },
  );

  const RENUMBER = "Sequential.pop (lib/nn/containers.ts) deletes the child's entry but does not renumber the rest; PyTorch's pop is `del seq[i]`, which renumbers 0..n-1";
  check(
    'pop(0) returns the child and renumbers the rest',
    () => {
      const s = makeSeq();
      expect(s.pop(0).constructor.name).toBe(c.pop_first.popped);
      expectLayout(s, c.pop_first);
    },
  );

  it('pop(-1) returns the last child', () => {
    const s = makeSeq();
    expect(s.pop(-1).constructor.name).toBe(c.pop_last.popped);
    expectLayout(s, c.pop_last);
  });

  check(
    'append after pop adds a child (and keeps every other one)',
    () => {
      const s = makeSeq();
      s.pop(1);
      s.append(new nn.Sigmoid());
      expectLayout(s, c.pop_then_append);
      expectTensor(forward(s), c.pop_then_append.out as TensorJson);
    },
  );

  check(
    'delete seq[i] removes the child at an index and renumbers (Python: del seq[1], del seq[-2])',
    () => {
      const s = makeSeq();
      delete (s as unknown as Record<number, nn.Module>)[1];
      expectLayout(s, c.del);
      const n = makeSeq();
      delete (n as unknown as Record<number, nn.Module>)[-2];
      expectLayout(n, c.del_negative);
    },
  );

  it('built from an object (Python: an OrderedDict): the keys are the names, slicing keeps them', () => {
    const e = fx.sequential_named;
    torch.manualSeed(51);
    const named = new nn.Sequential({ conv: new nn.Conv2d(1, 2, 3), act: new nn.ReLU(), fc: new nn.Linear(2, 2) });
    expect(Object.keys(named.stateDict())).toEqual(e.keys);
    expectState(named.stateDict(), e.state);
    expect(String(named)).toBe(e.repr);
    expect(Object.keys(named.slice(1).stateDict())).toEqual(e.slice_keys);
    expect(String(named.slice(1))).toBe(e.slice_repr);
    expect(String(new nn.Sequential())).toBe(fx.sequential_empty.repr);
  });

  it('rejects children that are not modules', () => {
    expect(() => new nn.Sequential(new nn.ReLU(), 3 as never)).toThrow(/Sequential expects Modules but received/);
    expect(() => new nn.Sequential().append({} as never)).toThrow(TypeError);
    expect(() => new nn.Sequential().insert(0, null as never)).toThrow(TypeError);
  });
});

// ---- ModuleList --------------------------------------------------------------------------------------------------

class ListNet extends nn.Module {
  blocks = new nn.ModuleList<nn.Module>([new nn.Linear(3, 3), new nn.Linear(3, 3), new nn.Linear(3, 3), new nn.ReLU(), new nn.ReLU(), new nn.Linear(3, 2)]);
  head = new nn.Linear(2, 1);
}

describe('nn.ModuleList as PyTorch', () => {
  const c = fx.module_list;
  const make = (): ListNet => {
    torch.manualSeed(52);
    return new ListNet();
  };

  it('registers its modules under the parent: state_dict keys, parameters() order, values', () => {
    const n = make();
    expect(Object.keys(n.stateDict())).toEqual(c.keys);
    expect([...n.namedParameters()].map(([k]) => k)).toEqual(c.parameters);
    expectState(n.stateDict(), c.state);
  });

  it('the printout folds runs of equal children: "(0-2): 3 x Linear(...)"', () => {
    expect(String(make())).toBe(c.repr);
    expect(String(new nn.ModuleList())).toBe(fx.module_list_empty.repr);
  });

  it('list[i], negative indices, and a RangeError out of range (PyTorch: IndexError)', () => {
    const n = make();
    for (const [i, t] of Object.entries(c.types)) expect(n.blocks[Number(i)].constructor.name, `blocks[${i}]`).toBe(t);
    const err = thrown(() => n.blocks[20]);
    expect(err).toBeInstanceOf(RangeError);
    expect(err.message).toContain(c.index_error.message);
  });

  it('insert, pop, append, extend and assignment renumber and re-register as PyTorch', () => {
    let n = make();
    n.blocks.insert(1, new nn.Tanh());
    expect({ ...layout(n.blocks), keys: Object.keys(n.stateDict()) }).toEqual({ names: c.insert.names, types: c.insert.types, keys: c.insert.keys });
    n = make();
    expect(n.blocks.pop(0).constructor.name).toBe(c.pop.popped);
    expect({ ...layout(n.blocks), keys: Object.keys(n.stateDict()) }).toEqual({ names: c.pop.names, types: c.pop.types, keys: c.pop.keys });
    n = make();
    n.blocks.append(new nn.Linear(2, 2));
    n.blocks.extend([new nn.Sigmoid(), new nn.Sigmoid()]);
    expect({ ...layout(n.blocks), keys: Object.keys(n.stateDict()) }).toEqual({ names: c.append_extend.names, types: c.append_extend.types, keys: c.append_extend.keys });
    expect(String(n.blocks)).toBe(c.append_extend.repr);
    n = make();
    n.blocks[0] = new nn.Sigmoid();
    n.blocks[-1] = new nn.Tanh();
    expect({ ...layout(n.blocks), keys: Object.keys(n.stateDict()) }).toEqual({ names: c.setitem.names, types: c.setitem.types, keys: c.setitem.keys });
  });

  it('slice(a, b) is list[a:b]: a new ModuleList numbered from 0, sharing the modules', () => {
    const n = make();
    const s = n.blocks.slice(1, 4);
    expectLayout(s, c.slice);
    expect(String(s)).toBe(c.slice.repr);
    expect(s[0]).toBe(n.blocks[1]);
  });

  check(
    'delete list[0] removes the module and renumbers (Python: del list[0])',
    () => {
      const n = make();
      delete (n.blocks as unknown as Record<number, nn.Module>)[0];
      expect({ ...layout(n.blocks), keys: Object.keys(n.stateDict()) }).toEqual({ names: c.del.names, types: c.del.types, keys: c.del.keys });
    },
  );

  it('has no forward (PyTorch: NotImplementedError), and rejects non-modules', () => {
    expect(() => (make().blocks as unknown as { forward(): unknown }).forward()).toThrow(/ModuleList has no forward/);
    expect(() => new nn.ModuleList([new nn.ReLU(), 'x' as never])).toThrow(TypeError);
    expect(() => new nn.ModuleList(5 as never)).toThrow(/ModuleList expects an iterable of Modules/);
  });
});

// ---- ModuleDict --------------------------------------------------------------------------------------------------

class DictNet extends nn.Module {
  heads = new nn.ModuleDict<nn.Module>({ cls: new nn.Linear(4, 3), act: new nn.ReLU(), box: new nn.Linear(4, 2) });
}

describe('nn.ModuleDict as PyTorch', () => {
  const c = fx.module_dict;

  it('keeps insertion order: state_dict keys, parameters(), printout; set/update/pop as PyTorch', () => {
    torch.manualSeed(53);
    const d = new DictNet();
    expect(String(d)).toBe(c.repr);
    expect(Object.keys(d.stateDict())).toEqual(c.keys);
    expect([...d.namedParameters()].map(([k]) => k)).toEqual(c.parameters);
    expect(d.heads.keys()).toEqual(c.dict_keys);
    expectState(d.stateDict(), c.state);
    // heads['aux'] = Linear(4, 1); heads.update({'cls': Linear(4, 5), 'z': Tanh()}): cls keeps its place.
    d.heads.set('aux', new nn.Linear(4, 1));
    d.heads.update({ cls: new nn.Linear(4, 5), z: new nn.Tanh() });
    expect(Object.keys(d.stateDict())).toEqual(c.after_update.keys);
    expect(d.heads.keys()).toEqual(c.after_update.dict_keys);
    expect((d.heads.get('cls') as nn.Linear).outFeatures).toBe(c.after_update.cls_out);
    expect(d.heads.pop('box').constructor.name).toBe(c.popped);
    expect(Object.keys(d.stateDict())).toEqual(c.after_pop.keys);
    expect(d.heads.keys()).toEqual(c.after_pop.dict_keys);
    expect(String(d)).toBe(c.after_pop.repr);
    // A missing key: PyTorch's KeyError, a RangeError here.
    expect(() => d.heads.get('nope')).toThrow(RangeError);
    expect(d.heads.has('cls')).toBe(true);
    expect([...d.heads]).toEqual(c.after_pop.dict_keys);
  });
});

// ---- ParameterList and ParameterDict -----------------------------------------------------------------------------

class ParamNet extends nn.Module {
  scale = nn.Parameter(torch.ones(2));
  plist = new nn.ParameterList([nn.Parameter(torch.randn(2)), torch.randn(3, 2)]);
  pdict = new nn.ParameterDict({ w: nn.Parameter(torch.randn(2, 2)), b: torch.zeros(2) });
  fc = new nn.Linear(2, 2);
}

describe('nn.ParameterList and nn.ParameterDict as PyTorch', () => {
  const c = fx.parameters;
  const make = (): ParamNet => {
    torch.manualSeed(54);
    return new ParamNet();
  };

  it('ParameterList registers its tensors as parameters named 0, 1, ... (plain tensors become Parameters)', () => {
    const n = make();
    const isList = (k: string): boolean => !k.startsWith('pdict.');
    expect(Object.keys(n.stateDict()).filter(isList)).toEqual(c.keys.filter(isList));
    expect([...n.namedParameters()].map(([k]) => k).filter(isList)).toEqual(c.parameters.filter(isList));
    expect(n.parameters().every((p) => p.requiresGrad)).toBe(c.requires_grad.every((r) => r));
    const sd = n.stateDict();
    for (const [k, v] of Object.entries(c.state)) expectTensor(sd[k], v);
  });

  check('state_dict keys and parameters() order of a module holding both', () => {
    const n = make();
    expect(Object.keys(n.stateDict())).toEqual(c.keys);
    expect([...n.namedParameters()].map(([k]) => k)).toEqual(c.parameters);
  });

  check(
    'the printout of a module holding both',
    () => expect(String(make())).toBe(c.repr),
  );

  it('ParameterList.append / extend and its printout', () => {
    const n = make();
    n.plist.append(torch.ones(4));
    n.plist.extend([torch.zeros(1, { dtype: 'float64' })]);
    expect(String(n.plist)).toBe(c.after_append.plist_repr);
    const isList = (k: string): boolean => !k.startsWith('pdict.');
    expect(Object.keys(n.stateDict()).filter(isList)).toEqual(c.after_append.keys.filter(isList));
  });

  check(
    'ParameterDict set and its printout',
    () => {
      const n = make();
      n.pdict.set('extra', torch.ones(3));
      expect(String(n.pdict)).toBe(c.after_append.pdict_repr);
    },
  );

  check(
    'a one-element ParameterList prints on one line, an empty one as "ParameterList()"',
    () => {
      expect(String(new nn.ParameterList([nn.Parameter(torch.ones(3))]))).toBe(fx.parameter_list_one.repr);
      expect(String(new nn.ParameterList())).toBe(fx.parameter_list_empty.repr);
    },
  );

  check(
    'a ParameterDict names the tensor type as torch.typename: torch.DoubleTensor',
    () => expect(String(new nn.ParameterDict({ a: torch.ones(2, 3, { dtype: 'float64' }) }))).toBe(fx.parameter_dict_float64.repr),
  );
});

// ---- a nested model ----------------------------------------------------------------------------------------------

class Nested extends nn.Module {
  stem = new nn.Sequential(new nn.Conv2d(3, 8, 3, { padding: 1, bias: false }), new nn.BatchNorm2d(8), new nn.ReLU({ inplace: true }));
  blocks = new nn.ModuleList([new nn.Linear(8, 8), new nn.Linear(8, 8), new nn.Linear(8, 8), new nn.Linear(8, 4)]);
  heads = new nn.ModuleDict<nn.Module>({ cls: new nn.Linear(4, 10), box: new nn.Sequential(new nn.Linear(4, 4), new nn.Sigmoid()) });
  scales = new nn.ParameterList([nn.Parameter(torch.ones(4)), nn.Parameter(torch.ones(8))]);
  pool = new nn.AdaptiveAvgPool2d(1);
  empty = new nn.ModuleList();
}

describe('a model nesting every container', () => {
  const c = fx.nested;

  it('prints as PyTorch: nested indentation, ModuleList folding, ModuleDict, ParameterList, an empty ModuleList', () => {
    torch.manualSeed(55);
    expect(String(new Nested())).toBe(c.repr);
  });

  it('state_dict keys and values, parameters(), buffers() and modules() in PyTorch\'s order', () => {
    torch.manualSeed(55);
    const n = new Nested();
    expectState(n.stateDict(), c.state);
    expect([...n.namedParameters()].map(([k]) => k)).toEqual(c.parameters);
    expect([...n.namedBuffers()].map(([k]) => k)).toEqual(c.buffers);
    expect([...n.namedModules()].map(([k]) => k)).toEqual(c.modules);
    expect(n.getSubmodule('heads.box.1').constructor.name).toBe('Sigmoid');
    expect(n.getParameter('scales.1').shape).toEqual([8]);
    expect(n.getBuffer('stem.1.running_var').shape).toEqual([8]);
  });
});

// ---- a module assembled by hand ---------------------------------------------------------------------------------

describe('a module assembled with registerModule / addModule / registerParameter / registerBuffer', () => {
  const c = fx.registered;
  const assemble = (): nn.Module => {
    torch.manualSeed(56);
    const m = new nn.Module();
    m.registerModule('fc', new nn.Linear(2, 3));
    m.addModule('act', new nn.ReLU());
    m.registerParameter('scale', nn.Parameter(torch.ones(3)));
    m.registerParameter('unset', null);
    m.registerBuffer('offset', torch.arange(3, { dtype: 'float32' }));
    m.registerBuffer('scratch', torch.zeros(2), { persistent: false });
    m.addModule('missing', null);
    return m.cpu();
  };

  it("has PyTorch's state_dict (non-persistent buffers left out), parameters, buffers, children and printout", () => {
    const m = assemble();
    expectState(m.stateDict(), c.state);
    expect(Object.keys(m.stateDict())).toEqual(c.keys);
    expect([...m.namedParameters()].map(([k]) => k)).toEqual(c.parameters);
    expect([...m.namedBuffers()].map(([k]) => k)).toEqual(c.buffers);
    const buffers = [...m.buffers()];
    expect(buffers.length).toBe(c.buffer_values.length);
    buffers.forEach((b, i) => expectTensor(b, c.buffer_values[i]));
    expect([...m.namedChildren()].map(([k]) => k)).toEqual(c.children);
    expect(String(m)).toBe(c.repr);
  });

  it("isParameter is Python's isinstance(t, nn.Parameter); extraRepr is Python's extra_repr()", () => {
    const m = assemble();
    const tensors: Record<string, Tensor> = { 'fc.weight': m.getParameter('fc.weight'), scale: m.getParameter('scale'), offset: m.getBuffer('offset') };
    expect(Object.fromEntries(Object.entries(tensors).map(([k, t]) => [k, nn.isParameter(t)]))).toEqual(c.is_parameter);
    expect({ fc: m.getSubmodule('fc').extraRepr(), act: m.getSubmodule('act').extraRepr(), root: m.extraRepr() }).toEqual(c.extra_repr);
  });

  it('apply visits children first; float/double/half/bfloat16/to convert every floating tensor; requiresGrad_, train and eval reach every submodule', () => {
    const m = assemble();
    const visited: string[] = [];
    expect(m.apply((sub) => visited.push(sub.constructor.name))).toBe(m);
    expect(visited).toEqual(c.apply_order);
    const conversions: Record<string, (x: nn.Module) => nn.Module> = {
      double: (x) => x.double(),
      half: (x) => x.half(),
      bfloat16: (x) => x.bfloat16(),
      float: (x) => x.double().float(),
      to_float64: (x) => x.to('float64'),
    };
    for (const [name, convert] of Object.entries(conversions)) {
      const converted = convert(m);
      const dtypes = Object.fromEntries([...converted.namedParameters(), ...converted.namedBuffers()].map(([k, t]) => [k, t.dtype]));
      expect({ same_module: converted === m, dtypes }, name).toEqual(c.conversions[name as keyof typeof c.conversions]);
      m.float();
    }
    m.requiresGrad_(false);
    expect(m.parameters().map((p) => p.requiresGrad)).toEqual(c.frozen);
    m.requiresGrad_();
    expect(m.parameters().map((p) => p.requiresGrad)).toEqual(c.unfrozen);
    expect({ eval: [...m.eval().modules()].map((x) => x.training), train: [...m.train().modules()].map((x) => x.training) }).toEqual(c.modes);
  });
});

// ---- holders that are not registered ---------------------------------------------------------------------------

describe('arrays and objects of modules on fields (PyTorch silently leaves them unregistered)', () => {
  it('an array of modules assigned to a field is a TypeError naming nn.ModuleList', () => {
    class Bad extends nn.Module {
      layers = [new nn.Linear(2, 2), new nn.ReLU()];
    }
    const err = thrown(() => new Bad());
    expect(err).toBeInstanceOf(TypeError);
    expect(err.message).toMatch(/Bad\.layers: an array of Modules is not registered: assign an nn\.ModuleList/);
    const m = new nn.Module();
    expect(() => {
      (m as unknown as Record<string, unknown>).later = [new nn.ReLU()];
    }).toThrow(/nn\.ModuleList/);
  });

  it('an object of modules is a TypeError naming nn.ModuleDict; arrays / objects of Parameters name ParameterList / ParameterDict', () => {
    const m = new nn.Module() as unknown as Record<string, unknown>;
    expect(() => {
      m.heads = { a: new nn.Linear(2, 2) };
    }).toThrow(/nn\.ModuleDict/);
    expect(() => {
      m.ps = [nn.Parameter(torch.ones(2))];
    }).toThrow(/nn\.ParameterList/);
    expect(() => {
      m.pd = { w: nn.Parameter(torch.ones(2)) };
    }).toThrow(/nn\.ParameterDict/);
    // Arrays of plain values are ordinary fields.
    m.sizes = [1, 2, 3];
    expect(m.sizes).toEqual([1, 2, 3]);
  });
});
