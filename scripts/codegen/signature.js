'use strict';
/**
 * The op specification's signature language and its type table.
 *
 * A signature reads like PyTorch's native_functions.yaml schema, with the JS (camelCase) parameter names:
 *
 *   'Tensor self, int[1]? dim=null, bool keepdim=false, *, dtype? dtype=null'
 *
 * `*` starts the keyword-only parameters (options object only); `Type... name` collects the remaining positional
 * arguments (or one array of them). A default is a JSON value (`null`, numbers, booleans, "strings", arrays); a type
 * ending in `?` also accepts null (Python's None). Every parameter may also be given by name in the trailing options
 * object, as Python accepts keywords for positional parameters.
 *
 * Each type says how it looks in TypeScript, how the generated TS validates it (helpers in lib/tensor/args.ts), what
 * crosses to native, and how the generated C++ reads it (readers in native/addon.h).
 */

/** @typedef {{ ts: string, native: string, kind: string, check: (v: string, fn: string, p: Param) => string,
 *   cpp: (name: string, i: number, p: Param) => string, nullable?: boolean, list?: boolean }} TypeInfo */
/** @typedef {{ name: string, type: string, info: TypeInfo, default?: unknown, hasDefault: boolean, kwOnly: boolean,
 *   varargs: boolean, variants?: string[] }} Param */

const q = (s) => JSON.stringify(s);

function listN(type) {
  const m = /^int\[(\d+)\](\?)?$/.exec(type);
  return m ? { n: Number(m[1]), nullable: !!m[2] } : null;
}

function strChoices(type) {
  const m = /^str\{([^}]*)\}(\?)?$/.exec(type);
  return m ? { choices: m[1].split('|'), nullable: !!m[2] } : null;
}

/** @returns {TypeInfo} */
function typeInfo(type) {
  const parts = splitUnion(type);
  if (parts.length > 1) {
    // A union (module constructors: `int[2]|str{same|valid}`): the first member whose kind fits checks the value.
    const infos = parts.map(typeInfo);
    const nullable = infos.some((i) => i.nullable);
    return {
      ts: [...new Set(infos.flatMap((i) => i.ts.split(' | ')))].join(' | '),
      native: infos.map((i) => i.native).join(' | '),
      kind: 'union',
      members: infos,
      nullable,
      check: (v, fn, p) => {
        const chain = infos.map((i) => `${kindTest({ info: i }, v)} ? ${i.check(v, fn, p)} : `).join('');
        return `(${chain}A.fail(A.bad(${fn}, ${q(p.name)}, ${q(infos.map((i) => i.ts).join(' or '))}, ${v})))`;
      },
      cpp: () => {
        throw new Error('union types are for module constructors only');
      },
    };
  }
  const n = listN(type);
  if (n) {
    // int[N]: an int (repeated N times; for N = 1 a single dim) or a list (of N ints; any length for N = 1).
    return {
      ts: n.n === 1 ? `number | number[]${n.nullable ? ' | null' : ''}` : `number | number[]${n.nullable ? ' | null' : ''}`,
      native: n.nullable ? 'number[] | null' : 'number[]',
      kind: 'intlist',
      nullable: n.nullable,
      check: (v, fn, p) => `${n.nullable ? 'A.intsNOpt' : 'A.intsN'}(${v}, ${n.n}, ${fn}, ${q(p.name)})`,
      cpp: (name, i, p) =>
        n.nullable
          ? `const auto ${name}_ = optionalInt64ListArg(info, ${i}, ${q(p.name)});\n  const at::OptionalIntArrayRef ${name} = ${name}_ ? at::OptionalIntArrayRef(*${name}_) : at::OptionalIntArrayRef();`
          : `const std::vector<int64_t> ${name} = int64ListArg(info, ${i}, ${q(p.name)});`,
    };
  }
  const s = strChoices(type);
  if (s) {
    return {
      ts: s.choices.map(q).join(' | ') + (s.nullable ? ' | null' : ''),
      native: s.nullable ? 'string | null' : 'string',
      kind: 'string',
      nullable: s.nullable,
      check: (v, fn, p) => `${s.nullable ? 'A.choiceOpt' : 'A.choice'}(${v}, ${q(s.choices)} as const, ${fn}, ${q(p.name)})`,
      cpp: (name, i, p) =>
        s.nullable
          ? `const c10::optional<std::string> ${name} = optionalStringArg(info, ${i}, ${q(p.name)});`
          : `const std::string ${name} = stringArg(info, ${i}, ${q(p.name)});`,
    };
  }
  const T = TYPES[type];
  if (!T) throw new Error(`unknown type '${type}'`);
  return T;
}

/** @type {Record<string, TypeInfo>} */
const TYPES = {
  Tensor: {
    ts: 'Tensor',
    native: 'H',
    kind: 'tensor',
    check: (v, fn, p) => `A.tensor(${v}, ${fn}, ${q(p.name)})`,
    cpp: (name, i) => `const at::Tensor& ${name} = tensorArg(info, ${i});`,
  },
  'Tensor?': {
    ts: 'Tensor | null',
    native: 'H',
    kind: 'tensor',
    nullable: true,
    check: (v, fn, p) => `A.tensorOpt(${v}, ${fn}, ${q(p.name)})`,
    cpp: (name, i) => `const c10::optional<at::Tensor> ${name} = optionalTensorArg(info, ${i});`,
  },
  'Tensor[]': {
    ts: 'Tensor[]',
    native: 'H[]',
    kind: 'array',
    list: true,
    check: (v, fn, p) => `A.tensors(${v}, ${fn}, ${q(p.name)})`,
    cpp: (name, i, p) => `const std::vector<at::Tensor> ${name} = tensorListArg(info, ${i}, ${q(p.name)});`,
  },
  Scalar: {
    ts: 'Scalar',
    native: 'number | boolean',
    kind: 'scalar',
    check: (v, fn, p) => `A.scalar(${v}, ${fn}, ${q(p.name)})`,
    cpp: (name, i, p) => `const at::Scalar ${name} = scalarArg(info, ${i}, ${q(p.name)});`,
  },
  'Scalar?': {
    ts: 'Scalar | null',
    native: 'number | boolean | null',
    kind: 'scalar',
    nullable: true,
    check: (v, fn, p) => `A.scalarOpt(${v}, ${fn}, ${q(p.name)})`,
    cpp: (name, i, p) => `const c10::optional<at::Scalar> ${name} = optionalScalarArg(info, ${i}, ${q(p.name)});`,
  },
  int: {
    ts: 'number',
    native: 'number',
    kind: 'number',
    check: (v, fn, p) => `A.int(${v}, ${fn}, ${q(p.name)})`,
    cpp: (name, i, p) => `const int64_t ${name} = int64Arg(info, ${i}, ${q(p.name)});`,
  },
  'int?': {
    ts: 'number | null',
    native: 'number | null',
    kind: 'number',
    nullable: true,
    check: (v, fn, p) => `A.intOpt(${v}, ${fn}, ${q(p.name)})`,
    cpp: (name, i, p) => `const c10::optional<int64_t> ${name} = optionalInt64Arg(info, ${i}, ${q(p.name)});`,
  },
  'int[]': {
    ts: 'number[]',
    native: 'number[]',
    kind: 'array',
    list: true,
    check: (v, fn, p) => `A.ints(${v}, ${fn}, ${q(p.name)})`,
    cpp: (name, i, p) => `const std::vector<int64_t> ${name} = int64ListArg(info, ${i}, ${q(p.name)});`,
  },
  'int[]?': {
    ts: 'number[] | null',
    native: 'number[] | null',
    kind: 'array',
    list: true,
    nullable: true,
    check: (v, fn, p) => `A.intsOpt(${v}, ${fn}, ${q(p.name)})`,
    cpp: (name, i, p) =>
      `const auto ${name}_ = optionalInt64ListArg(info, ${i}, ${q(p.name)});\n  const at::OptionalIntArrayRef ${name} = ${name}_ ? at::OptionalIntArrayRef(*${name}_) : at::OptionalIntArrayRef();`,
  },
  // A number or a list of numbers (a number becomes a one-entry list; the op expands it to its dims).
  'float[]?': {
    ts: 'number | number[] | null',
    native: 'number[] | null',
    kind: 'intlist',
    list: true,
    nullable: true,
    check: (v, fn, p) => `A.floatsOpt(${v}, ${fn}, ${q(p.name)})`,
    cpp: (name, i, p) => `const c10::optional<std::vector<double>> ${name} = optionalDoubleListArg(info, ${i}, ${q(p.name)});`,
  },
  float: {
    ts: 'number',
    native: 'number',
    kind: 'number',
    check: (v, fn, p) => `A.float(${v}, ${fn}, ${q(p.name)})`,
    cpp: (name, i, p) => `const double ${name} = doubleArg(info, ${i}, ${q(p.name)});`,
  },
  'float?': {
    ts: 'number | null',
    native: 'number | null',
    kind: 'number',
    nullable: true,
    check: (v, fn, p) => `A.floatOpt(${v}, ${fn}, ${q(p.name)})`,
    cpp: (name, i, p) => `const c10::optional<double> ${name} = optionalDoubleArg(info, ${i}, ${q(p.name)});`,
  },
  bool: {
    ts: 'boolean',
    native: 'boolean',
    kind: 'boolean',
    check: (v, fn, p) => `A.bool(${v}, ${fn}, ${q(p.name)})`,
    cpp: (name, i, p) => `const bool ${name} = boolArg(info, ${i}, ${q(p.name)});`,
  },
  'bool?': {
    ts: 'boolean | null',
    native: 'boolean | null',
    kind: 'boolean',
    nullable: true,
    check: (v, fn, p) => `A.boolOpt(${v}, ${fn}, ${q(p.name)})`,
    cpp: (name, i, p) => `const c10::optional<bool> ${name} = optionalBoolArg(info, ${i}, ${q(p.name)});`,
  },
  str: {
    ts: 'string',
    native: 'string',
    kind: 'string',
    check: (v, fn, p) => `A.str(${v}, ${fn}, ${q(p.name)})`,
    cpp: (name, i, p) => `const std::string ${name} = stringArg(info, ${i}, ${q(p.name)});`,
  },
  'dtype?': {
    ts: 'DType | null',
    native: 'number',
    kind: 'string',
    nullable: true,
    check: (v, fn, p) => `A.dtypeOpt(${v}, ${fn}, ${q(p.name)})`,
    cpp: (name, i) => `const c10::optional<at::ScalarType> ${name} = optionalDtypeArg(info, ${i});`,
  },
  // torch.contiguousFormat, torch.channelsLast, ... as native codes (lib/dtype.ts memoryFormatCode).
  MemoryFormat: {
    ts: 'MemoryFormat',
    native: 'number',
    kind: 'string',
    check: (v, fn, p) => `A.memoryFormat(${v}, ${fn}, ${q(p.name)})`,
    cpp: (name, i) => `const at::MemoryFormat ${name} = memoryFormatArg(info, ${i});`,
  },
  // Module constructors keep dtype and device names (they are applied in TS).
  'DType?': {
    ts: 'DType | null',
    native: 'string | null',
    kind: 'string',
    nullable: true,
    check: (v, fn, p) => `A.dtypeNameOpt(${v}, ${fn}, ${q(p.name)})`,
    cpp: () => {
      throw new Error('DType? is for module constructors');
    },
  },
  'Device?': {
    ts: 'Device | null',
    native: 'string | null',
    kind: 'string',
    nullable: true,
    check: (v, fn, p) => `A.deviceOpt(${v}, ${fn}, ${q(p.name)})`,
    cpp: () => {
      throw new Error('Device? is for module constructors');
    },
  },
  // A number that may be null (momentum=None), for module constructors.
  // 'none' | 'mean' | 'sum' as at::Reduction codes (0, 1, 2).
  Reduction: {
    ts: 'Reduction',
    native: 'number',
    kind: 'string',
    check: (v, fn, p) => `A.reduction(${v}, ${fn}, ${q(p.name)})`,
    cpp: (name, i, p) => `const int64_t ${name} = intArg(info, ${i}, ${q(p.name)});`,
  },
};

// Splits `a|b` at the top level (not inside str{...} choices).
function splitUnion(type) {
  const out = [];
  let depth = 0;
  let cur = '';
  for (const ch of type) {
    if (ch === '{') depth++;
    if (ch === '}') depth--;
    if (ch === '|' && depth === 0) {
      out.push(cur);
      cur = '';
    } else {
      cur += ch;
    }
  }
  out.push(cur);
  return out;
}

/** A test of a value's kind, for choosing among signatures and union members. */
function kindTest(p, v) {
  const nul = p.info.nullable ? ` || ${v} === null` : '';
  if (p.varargs) return p.type === 'Tensor' ? `(${v} instanceof Tensor || Array.isArray(${v}))` : `(typeof ${v} === 'number' || Array.isArray(${v}))`;
  switch (p.info.kind) {
    case 'tensor':
      return `(${v} instanceof Tensor${nul})`;
    case 'tensor|scalar':
      return `(${v} instanceof Tensor || A.isScalar(${v}))`;
    case 'scalar':
      return `(A.isScalar(${v})${nul})`;
    case 'number':
      return `(typeof ${v} === 'number'${nul})`;
    case 'intlist':
      return `(typeof ${v} === 'number' || Array.isArray(${v})${nul})`;
    case 'array':
      return `(Array.isArray(${v})${nul})`;
    case 'boolean':
      return `(typeof ${v} === 'boolean'${nul})`;
    case 'string':
      return `(typeof ${v} === 'string'${nul})`;
    case 'union':
      return `(${p.info.members.map((i) => kindTest({ info: i }, v)).join(' || ')})`;
    default:
      throw new Error(`no kind test for ${p.type}`);
  }
}

// Tensor|Scalar: one native function per variant (T: a tensor handle, S: a Scalar), chosen in TS by the value.
const VARIANT = {
  T: TYPES.Tensor,
  S: TYPES.Scalar,
};

/** Parses a signature string into parameters. */
function parseSignature(sig, where, options = {}) {
  const params = [];
  let kwOnly = false;
  const parts = sig.trim() === '' ? [] : splitTop(sig);
  for (const raw of parts) {
    const part = raw.trim();
    if (part === '*') {
      kwOnly = true;
      continue;
    }
    const m = /^(\S+?)(\.\.\.)?\s+([A-Za-z_$][\w$]*)(?:\s*=\s*(.+))?$/.exec(part);
    if (!m) throw new Error(`${where}: cannot parse parameter '${part}'`);
    const [, type, dots, name, def] = m;
    const p = { name, type, kwOnly, varargs: !!dots, hasDefault: def !== undefined };
    if (def !== undefined) {
      try {
        p.default = JSON.parse(def);
      } catch {
        throw new Error(`${where}: default of ${name} is not JSON: ${def}`);
      }
    }
    if (type === 'Tensor|Scalar' && !options.modules) {
      p.variants = ['T', 'S'];
      p.info = { ts: 'Tensor | Scalar', kind: 'tensor|scalar' };
    } else {
      p.info = typeInfo(type);
    }
    if (p.varargs && !['Tensor', 'int'].includes(type)) throw new Error(`${where}: varargs of ${type} are not supported`);
    if (p.varargs) p.info = type === 'Tensor' ? TYPES['Tensor[]'] : TYPES['int[]'];
    params.push(p);
  }
  const va = params.findIndex((p) => p.varargs);
  if (va >= 0 && va !== params.length - 1) throw new Error(`${where}: varargs must come last`);
  return params;
}

// Splits on commas outside brackets and quotes.
function splitTop(s) {
  const out = [];
  let depth = 0;
  let inStr = false;
  let cur = '';
  for (const ch of s) {
    if (ch === '"') inStr = !inStr;
    if (!inStr && (ch === '[' || ch === '{')) depth++;
    if (!inStr && (ch === ']' || ch === '}')) depth--;
    if (ch === ',' && depth === 0 && !inStr) {
      out.push(cur);
      cur = '';
    } else {
      cur += ch;
    }
  }
  if (cur.trim() !== '') out.push(cur);
  return out;
}

/** The TS literal of a default value for a parameter (int[N] defaults expand to N entries). */
function tsDefault(p) {
  const n = listN(p.type);
  if (n && typeof p.default === 'number') return JSON.stringify(Array(n.n).fill(p.default));
  return JSON.stringify(p.default);
}

module.exports = { parseSignature, typeInfo, kindTest, TYPES, VARIANT, tsDefault, listN };
