/**
 * Every public export of torchkd is exercised by a test that checks it against PyTorch.
 *
 * The public surface is read at run time from lib/index.ts: the functions, classes, accessors and constants of
 * `torch` and of its namespaces (`F`, `linalg`, `nn`, `nn.init`, `nn.utils`, `optim`, `optim.lrScheduler`, `amp`,
 * `autograd`, `data`, `distiller`, `jit`, `models`, `backends`, `cuda`, … found by walking the module, so a new
 * namespace is covered without editing this file; an export reachable under several names is listed once, under the
 * shortest), and the members of the classes a user calls methods on (`Tensor`, `nn.Module`, `optim.Optimizer`,
 * `optim.lrScheduler.LRScheduler`, `amp.GradScaler`). Declarations marked `@internal` in lib/ (the build strips them
 * from the typings) and `private` / `protected` members are not public and are left out.
 *
 * A test file checks against PyTorch when it reads a PyTorch-made fixture (`fixture(` / `liveFixture(` of
 * test/helpers.ts), runs the Python oracle (`pythonWithTorch()`) or uses the parity case runner
 * (test/02-parity-cases.ts, which counts itself). test/07-cuda.test.ts is left out: it runs only on a GPU.
 * An export counts as tested when such a file refers to it:
 *  - namespace members through any name the file gives them, resolved by identity: `torch.F.silu`, `F.silu` after
 *    `const F = torch.F`, `linalg.norm` after `const { linalg } = torch`, `kdLoss(` after
 *    `import { kdLoss } from '../lib/index'`, `new nn.Linear(`, `nn.init.zeros_`, a function put in a table
 *    (`[F.relu6, F.elu]`), and loops over a literal list of names (`for (const op of ['neg', 'abs']) torch[op](a)`);
 *  - class members by name on any value that is not a namespace: methods when called (`x.silu()`, `a[op]()` in such
 *    a loop, `m.stateDict()`), properties when read (`t.shape`). A name several of the classes share (`float` of
 *    Tensor and Module) counts for each of them;
 *  - calls by a name computed from data, read from that data (TABLES below): test/05-nn-modules.test.ts constructs
 *    `nn[cls]` and calls `nn.init[fn]` for the names in test/fixtures/nn_modules.json.
 * Comments and the text of strings and regular expressions are not read (an error message naming `nn.Linear()` is
 * not a call).
 *
 * Exports with nothing in PyTorch to compare with on a CPU are listed in NO_PYTORCH_COUNTERPART with the reason; the
 * list must name only exports, and only exports no PyTorch-checking test refers to.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

import * as torch from '../lib/index';

const ROOT = path.resolve(__dirname, '..');
const TEST_DIR = path.join(ROOT, 'test');

// ---- exports without a PyTorch counterpart -------------------------------------------------------------------------

const CUDA = 'needs a CUDA device: test/07-cuda.test.ts checks it on a GPU';
const CUDNN = 'switches CUDA kernels only (cuDNN, TF32 matmuls): test/07-cuda.test.ts checks it on a GPU';
const TO_JSON = "JSON.stringify's hook, no PyTorch counterpart";

/** Public name → why there is nothing in PyTorch to compare it with on a CPU. Kept tight: see the tests at the end. */
const NO_PYTORCH_COUNTERPART: Record<string, string> = {
  // CUDA: devices, streams, memory and generators of a GPU
  'torch.CudaEvent': CUDA,
  'torch.CudaStream': CUDA,
  'torch.cuda.currentStream': CUDA,
  'torch.cuda.defaultStream': CUDA,
  'torch.cuda.deviceCount': CUDA,
  'torch.cuda.emptyCache': CUDA,
  'torch.cuda.getDeviceCapability': CUDA,
  'torch.cuda.getDeviceName': CUDA,
  'torch.cuda.getDeviceProperties': CUDA,
  'torch.cuda.getRngState': CUDA,
  'torch.cuda.getRngStateAll': CUDA,
  'torch.cuda.initialSeed': CUDA,
  'torch.cuda.isBf16Supported': CUDA,
  'torch.cuda.isBuiltWithCuda': CUDA,
  'torch.cuda.manualSeed': CUDA,
  'torch.cuda.manualSeedAll': CUDA,
  'torch.cuda.maxMemoryAllocated': CUDA,
  'torch.cuda.maxMemoryReserved': CUDA,
  'torch.cuda.memGetInfo': CUDA,
  'torch.cuda.memoryAllocated': CUDA,
  'torch.cuda.memoryReserved': CUDA,
  'torch.cuda.memoryStats': CUDA,
  'torch.cuda.resetPeakMemoryStats': CUDA,
  'torch.cuda.seed': CUDA,
  'torch.cuda.seedAll': CUDA,
  'torch.cuda.setDevice': CUDA,
  'torch.cuda.setRngState': CUDA,
  'torch.cuda.setRngStateAll': CUDA,
  'torch.cuda.setStream': CUDA,
  'torch.cuda.stream': CUDA,
  'torch.cuda.synchronize': CUDA,
  'torch.Tensor.cuda': CUDA,
  'torch.Tensor.recordStream': CUDA,
  'torch.Tensor.pinMemory': 'pinned memory needs a CUDA device: test/07-cuda.test.ts checks it on a GPU',
  'torch.nn.Module.cuda': CUDA,
  'torch.backends.cuda.matmul.allowTf32': CUDNN,
  'torch.backends.cudnn.allowTf32': CUDNN,
  'torch.backends.cudnn.benchmark': CUDNN,
  'torch.backends.cudnn.deterministic': CUDNN,
  'torch.backends.cudnn.enabled': CUDNN,
  'torch.backends.cudnn.isAvailable': CUDNN,
  'torch.backends.cudnn.version': CUDNN,
  'torch.OutOfMemoryError':
    'failed allocations: on the CPU PyTorch raises a plain RuntimeError (torch.OutOfMemoryError is CUDA only; test/07-cuda.test.ts)',
  // JavaScript-only: lifetime, serialisation hooks, typed memory, constants
  'torch.keep': 'keeps a tensor past tidy(): lifetime management JavaScript needs, no PyTorch counterpart',
  'torch.Tensor.isDisposed': 'whether dispose() freed the tensor: lifetime management, no PyTorch counterpart',
  'torch.Tensor.dataView': "a DataView on a copy of the values: JavaScript's access to typed memory",
  'torch.Tensor.toJSON': TO_JSON,
  'torch.nn.Module.toJSON': TO_JSON,
  'torch.version': "torchkd's own version strings",
  'torch.getNumInteropThreads': "the inter-op thread pool's size depends on the machine: no fixed value to compare",
  'torch.data.FASHION_MNIST_DEFAULT_ROOT': 'the default download folder, a constant',
  'torch.data.parseIdxHeader':
    "reads an IDX header (torchvision's MNIST file format, not a PyTorch function); readIdx built on it is compared with Python's reading in test/06-data.test.ts",
  'torch.models.ARCHITECTURES': "the names models.create accepts (Distiller's --arch choices), a constant",
  'torch.jit.ScriptModule': 'the class of what torch.jit.load returns, not constructed by users (test/05-nn.test.ts trains loaded modules against PyTorch)',
  'torch.ScheduledTrainingPolicy':
    "Distiller's policy base class, no PyTorch counterpart (test/04-distiller-scheduler.test.ts checks it with Distiller's own test cases)",
};

// ---- the public surface --------------------------------------------------------------------------------------------

type Kind = 'function' | 'class' | 'accessor' | 'value' | 'method' | 'property';

/** One public export (reachable under one or more names: `torch.kdLoss` is `torch.distiller.kdLoss`). */
interface Export {
  /** The first public name it was found under, e.g. `torch.F.silu` or `torch.Tensor.add`. */
  name: string;
  /** The namespace or class it was found in, e.g. `torch.F` or `torch.Tensor`. */
  group: string;
  kind: Kind;
  /** For class members (`method`, `property`): the member name, matched on any value. */
  member?: string;
}

const DECLARATION = /\/\*\*((?:[^*]|\*(?!\/))*)\*\/\s*((?:(?:export|declare|public|protected|private|static|readonly|override|abstract|async|function|const|let|class|get|set)\s+)*)([A-Za-z_$][\w$]*)/g;

/** The module-level declarations of lib/ marked `@internal` (stripped from the published typings). */
function internalExports(): Set<string> {
  const out = new Set<string>();
  const visit = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) visit(p);
      else if (e.name.endsWith('.ts')) {
        for (const m of fs.readFileSync(p, 'utf8').matchAll(DECLARATION)) if (/@internal\b/.test(m[1]) && /\bexport\b/.test(m[2])) out.add(m[3]);
      }
    }
  };
  visit(path.join(ROOT, 'lib'));
  return out;
}

/** The class members declared in `files` that a user cannot call: `private`, `protected` or marked `@internal`. */
function hiddenMembers(files: string[]): Set<string> {
  const out = new Set<string>();
  for (const f of files) {
    const src = fs.readFileSync(path.join(ROOT, 'lib', f), 'utf8');
    for (const m of src.matchAll(DECLARATION)) if (/@internal\b/.test(m[1]) && !/\bexport\b/.test(m[2])) out.add(m[3]);
    const modifiers = /^[ \t]+(?:(?:public|static|readonly|override|abstract|async|declare)\s+)*(?:private|protected)\s+(?:(?:static|readonly|override|abstract|async|get|set)\s+)*([A-Za-z_$][\w$]*)/gm;
    for (const m of src.matchAll(modifiers)) out.add(m[1]);
  }
  return out;
}

/** A plain object of functions (or accessors): a namespace to walk, not a value. */
function isNamespace(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return false;
  return Object.keys(v).some((k) => {
    const d = Object.getOwnPropertyDescriptor(v, k)!;
    const m = (v as Record<string, unknown>)[k];
    return typeof m === 'function' || (d.get !== undefined && !isModuleObject(v)) || isNamespace(m);
  });
}

/** ES module namespace objects (as vitest builds them: a null prototype, live bindings as getters). */
function isModuleObject(v: object): boolean {
  return (v as { [Symbol.toStringTag]?: string })[Symbol.toStringTag] === 'Module' || Object.getPrototypeOf(v) === null;
}

function isClass(f: unknown): boolean {
  return typeof f === 'function' && /^class\b/.test(Function.prototype.toString.call(f));
}

/** The classes whose members are part of the surface: public name, class, the lib/ files that declare it. */
const CLASSES_WITH_MEMBERS: [string, { prototype: object }, string[]][] = [
  ['torch.Tensor', torch.Tensor, ['generated/tensor.ts', 'tensor/base.ts']],
  ['torch.nn.Module', torch.nn.Module, ['nn/module.ts']],
  ['torch.optim.Optimizer', torch.optim.Optimizer, ['optim/optimizer.ts']],
  ['torch.optim.lrScheduler.LRScheduler', torch.optim.lrScheduler.LRScheduler, ['optim/lr-scheduler.ts']],
  ['torch.amp.GradScaler', torch.amp.GradScaler, ['amp.ts']],
];

/** The public surface: exports by identity (values), by holder and key (accessors, primitives), class members. */
class Surface {
  readonly exports: Export[] = [];
  readonly byValue = new Map<unknown, Export>();
  readonly byHolderKey = new Map<object, Map<string, Export>>();
  readonly members = new Map<string, Export[]>();
  readonly internal = internalExports();
  readonly namespaces = new Set<unknown>();

  constructor() {
    // Breadth first, so that an export reachable under several names gets the shortest (`torch.kdLoss`, not
    // `torch.distiller.kdLoss`).
    const namespaces = this.namespaces;
    const queue: [Record<string, unknown>, string][] = [];
    const walk = (ns: Record<string, unknown>, prefix: string): void => {
      for (const key of Object.keys(ns).sort()) {
        if (prefix === 'torch' && key === 'default') continue; // the module itself, for `import torch from`
        if (isModuleObject(ns) && this.internal.has(key)) continue;
        const name = `${prefix}.${key}`;
        const d = Object.getOwnPropertyDescriptor(ns, key)!;
        if (d.get !== undefined && !isModuleObject(ns)) {
          this.addHolderKey(ns, key, { name, group: prefix, kind: 'accessor' });
          continue;
        }
        const v = ns[key];
        if (isNamespace(v)) {
          if (!namespaces.has(v)) {
            namespaces.add(v);
            queue.push([v, name]);
          }
          continue;
        }
        if (v !== null && (typeof v === 'function' || typeof v === 'object')) {
          if (this.byValue.has(v)) continue;
          const e: Export = { name, group: prefix, kind: typeof v === 'function' ? (isClass(v) ? 'class' : 'function') : 'value' };
          this.byValue.set(v, e);
          this.exports.push(e);
        } else {
          this.addHolderKey(ns, key, { name, group: prefix, kind: 'value' });
        }
      }
    };
    namespaces.add(torch);
    queue.push([torch as unknown as Record<string, unknown>, 'torch']);
    while (queue.length > 0) walk(...queue.shift()!);
    // The Tensor class itself is not called (tensors come from torch.tensor() and the factories): its members are.
    const tensorExport = this.byValue.get(torch.Tensor)!;
    this.exports.splice(this.exports.indexOf(tensorExport), 1);
    this.byValue.delete(torch.Tensor);

    for (const [group, cls, files] of CLASSES_WITH_MEMBERS) {
      const hidden = hiddenMembers(files);
      const seen = new Set<string>();
      for (let p = cls.prototype; p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
        for (const key of Object.getOwnPropertyNames(p)) {
          if (key === 'constructor' || key.startsWith('_') || hidden.has(key) || seen.has(key)) continue;
          seen.add(key);
          const d = Object.getOwnPropertyDescriptor(p, key)!;
          const e: Export = { name: `${group}.${key}`, group, kind: d.get || d.set ? 'property' : 'method', member: key };
          this.exports.push(e);
          this.members.set(key, [...(this.members.get(key) ?? []), e]);
        }
      }
    }
  }

  private addHolderKey(holder: object, key: string, e: Export): void {
    if (!this.byHolderKey.has(holder)) this.byHolderKey.set(holder, new Map());
    this.byHolderKey.get(holder)!.set(key, e);
    this.exports.push(e);
  }

  /** The export reached by `holder.key`, if any. */
  memberOf(holder: unknown, key: string): Export | undefined {
    if (holder === null || (typeof holder !== 'object' && typeof holder !== 'function')) return undefined;
    const hk = this.byHolderKey.get(holder as object)?.get(key);
    if (hk) return hk;
    if (!(key in (holder as object))) return undefined;
    return this.byValue.get((holder as Record<string, unknown>)[key]);
  }

  /** Whether `v` is a namespace object of the surface (its members are exports, not class members). */
  isNamespaceValue(v: unknown): boolean {
    return this.namespaces.has(v);
  }
}

// ---- reading test sources ------------------------------------------------------------------------------------------

/**
 * The source with comments blanked out and, in `code`, the text of strings, template literals (not their `${}`) and
 * regular expressions blanked out too; both keep every character's position.
 */
function strip(src: string): { code: string; text: string } {
  const code = src.split('');
  const text = src.split('');
  const blank = (i: number, both: boolean): void => {
    if (src[i] === '\n') return;
    code[i] = ' ';
    if (both) text[i] = ' ';
  };
  const braces: ('code' | 'template')[] = [];
  let i = 0;
  let lastSignificant = '';
  const scanQuoted = (q: string): void => {
    i++;
    while (i < src.length && src[i] !== q) {
      if (src[i] === '\\') {
        blank(i, false);
        blank(i + 1, false);
        i += 2;
        continue;
      }
      if (q === '`' && src[i] === '$' && src[i + 1] === '{') {
        braces.push('template');
        i += 2;
        return;
      }
      blank(i, false);
      i++;
    }
    i++;
  };
  while (i < src.length) {
    const c = src[i];
    if (c === '/' && src[i + 1] === '/') {
      while (i < src.length && src[i] !== '\n') blank(i++, true);
      continue;
    }
    if (c === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2);
      const stop = end < 0 ? src.length : end + 2;
      while (i < stop) blank(i++, true);
      continue;
    }
    if (c === "'" || c === '"' || c === '`') {
      scanQuoted(c);
      lastSignificant = 'a';
      continue;
    }
    if (c === '/' && (lastSignificant === '' || '(,=:[!&|?{};+-*%<>~^'.includes(lastSignificant))) {
      // a regular expression literal
      i++;
      let inClass = false;
      while (i < src.length && src[i] !== '\n' && (inClass || src[i] !== '/')) {
        if (src[i] === '\\') blank(i++, false);
        else if (src[i] === '[') inClass = true;
        else if (src[i] === ']') inClass = false;
        blank(i++, false);
      }
      i++;
      lastSignificant = 'a';
      continue;
    }
    if (c === '{') braces.push('code');
    if (c === '}') {
      if (braces.pop() === 'template') {
        // back inside the template literal
        scanQuoted('`');
        lastSignificant = 'a';
        continue;
      }
    }
    if (!/\s/.test(c)) lastSignificant = /[\w$)\]]/.test(c) ? 'a' : c;
    i++;
  }
  return { code: code.join(''), text: text.join('') };
}

/** What one test file refers to: exports (by identity), and the member names it calls / reads on values. */
interface FileRefs {
  exports: Set<Export>;
  calls: Set<string>;
  reads: Set<string>;
}

const IDENT = '[A-Za-z_$][\\w$]*';

/**
 * The exports and member names a source refers to. `modules` maps the import specifiers of lib/ modules to the
 * loaded modules (so that imported names resolve by identity).
 */
function references(surface: Surface, src: string, modules: Map<string, unknown>): FileRefs {
  const { code, text } = strip(src);
  const refs: FileRefs = { exports: new Set(), calls: new Set(), reads: new Set() };
  const aliases = new Map<string, unknown>();
  /** Positions of `.name` segments that named a namespace member (not a member of a value). */
  const namespaceDots = new Set<number>();

  // Imports from lib/: `* as torch`, a default import, `{ a, b as c }` (types skipped).
  let scan = code;
  for (const m of text.matchAll(/\bimport\s+(type\s+)?((?:(?!\bfrom\b)[^;])*?)\s+from\s+(['"])(\.\.\/lib[^'"]*)\3\s*;?/g)) {
    scan = scan.slice(0, m.index) + ' '.repeat(m[0].length) + scan.slice(m.index! + m[0].length);
    if (m[1]) continue;
    const mod = modules.get(m[4]) as Record<string, unknown> | undefined;
    if (mod === undefined) throw new Error(`import of ${m[4]} was not loaded`);
    const clause = m[2].trim();
    const star = /^\*\s+as\s+([\w$]+)$/.exec(clause);
    if (star) aliases.set(star[1], mod);
    const def = /^([\w$]+)\s*(,|$)/.exec(clause);
    if (def) aliases.set(def[1], mod.default);
    const named = /\{([\s\S]*)\}/.exec(clause);
    if (named) {
      for (const part of named[1].split(',')) {
        const p = part.trim();
        if (p === '' || p.startsWith('type ')) continue;
        const [orig, local] = p.split(/\s+as\s+/);
        aliases.set(local ?? orig, mod[orig]);
      }
    }
  }

  /** The value of a dotted chain over the aliases (undefined when it does not resolve). */
  const resolve = (chain: string): unknown => {
    const [root, ...rest] = chain.split('.').map((s) => s.trim());
    if (!aliases.has(root)) return undefined;
    let v = aliases.get(root);
    for (const k of rest) {
      if (v === null || (typeof v !== 'object' && typeof v !== 'function') || !(k in (v as object))) return undefined;
      v = (v as Record<string, unknown>)[k];
    }
    return v;
  };

  // Local names for exports and namespaces: `const F = torch.F;`, `const { linalg, nn: n } = torch;`.
  const declarations = [
    ...scan.matchAll(new RegExp(`\\b(?:const|let|var)\\s+(${IDENT})\\s*=\\s*(${IDENT}(?:\\s*\\.\\s*${IDENT})*)\\s*[;\\n]`, 'g')),
    ...scan.matchAll(new RegExp(`\\b(?:const|let|var)\\s*\\{([^}]*)\\}\\s*=\\s*(${IDENT}(?:\\s*\\.\\s*${IDENT})*)\\s*[;\\n]`, 'g')),
  ].sort((a, b) => a.index! - b.index!);
  for (const m of declarations) {
    const value = resolve(m[2].replace(/\s+/g, ''));
    if (value === undefined) continue;
    if (m[0].includes('{')) {
      for (const part of m[1].split(',')) {
        const [key, local] = part.split(':').map((s) => s.trim());
        if (key && (value as Record<string, unknown>)[key] !== undefined) aliases.set(local || key, (value as Record<string, unknown>)[key]);
      }
    } else {
      aliases.set(m[1], value);
    }
  }

  // Chains rooted at an alias: `torch.nn.functional.silu`, `F.silu`, `kdLoss`, `nn.init.zeros_`.
  // (not after a `.` of a member access; after a spread's `...` it is a chain)
  const chainRe = new RegExp(`(?<![\\w$])(?<![^.]\\.)(${IDENT})((?:\\s*\\??\\.\\s*${IDENT})*)`, 'g');
  for (const m of scan.matchAll(chainRe)) {
    const root = m[1];
    if (!aliases.has(root)) continue;
    // an object key or a parameter's type annotation, not a reference
    if (m[2] === '' && /^\s*:/.test(scan.slice(m.index! + m[0].length)) && !/\?\s*$/.test(scan.slice(0, m.index))) continue;
    let v = aliases.get(root);
    const own = surface.byValue.get(v);
    if (own) refs.exports.add(own);
    let offset = m.index! + root.length;
    for (const seg of m[2].split('.').slice(1)) {
      const key = seg.trim().replace(/^\?/, '');
      const dot = scan.indexOf('.', offset);
      offset = dot + 1 + seg.length;
      if (!surface.isNamespaceValue(v) && !(typeof v === 'function')) break;
      const e = surface.memberOf(v, key);
      if (surface.isNamespaceValue(v)) namespaceDots.add(dot);
      if (e) refs.exports.add(e);
      if (v === null || (typeof v !== 'object' && typeof v !== 'function') || !(key in (v as object))) break;
      v = (v as Record<string, unknown>)[key];
    }
  }

  // Members of values anywhere else: calls `x.silu()`, `m.stateDict()`; reads `t.shape`.
  for (const m of scan.matchAll(new RegExp(`\\.\\s*(${IDENT})(\\s*\\()?`, 'g'))) {
    if (namespaceDots.has(m.index!)) continue;
    (m[2] ? refs.calls : refs.reads).add(m[1]);
  }

  // Loops over a literal list of names: `for (const op of ['neg', 'exp'] as const) same(torch[op](a), a[op]())`.
  for (const m of text.matchAll(new RegExp(`for\\s*\\(\\s*const\\s+(${IDENT})\\s+of\\s+\\[([^\\]]*)\\](?:\\s+as\\s+const)?\\s*\\)([^\\n]*)`, 'g'))) {
    const names = [...m[2].matchAll(/'([\w$]+)'/g)].map((n) => n[1]);
    for (const use of m[3].matchAll(new RegExp(`(${IDENT}(?:\\.${IDENT})*)\\[${m[1]}\\]`, 'g'))) {
      const holder = resolve(use[1]);
      for (const n of names) {
        if (holder !== undefined && surface.isNamespaceValue(holder)) {
          const e = surface.memberOf(holder, n);
          if (e) refs.exports.add(e);
        } else {
          refs.calls.add(n);
        }
      }
    }
  }
  return refs;
}

/** camelCase of a Python keyword, as test/05-nn-modules.test.ts maps nn.init's function names. */
const jsName = (py: string): string => py.replace(/^_/, '').replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/**
 * Calls by a computed name, read from the data that drives them. Each entry names the file, a piece of its code that
 * makes the dynamic call (checked to be still there) and the exports it reaches.
 */
const TABLES: { file: string; code: string; exports: () => unknown[] }[] = [
  {
    file: '05-nn-modules.test.ts',
    code: '(nn as unknown as Record<string, new (...a: unknown[]) => nn.Module>)[cls]',
    exports: () => {
      const fx = JSON.parse(fs.readFileSync(path.join(TEST_DIR, 'fixtures', 'nn_modules.json'), 'utf8')) as Record<string, Record<string, { cls: string }>>;
      const classes = [...Object.values(fx.layers), ...Object.values(fx.losses), ...Object.values(fx.ctor_errors)].map((c) => c.cls);
      return classes.map((c) => (torch.nn as unknown as Record<string, unknown>)[c]);
    },
  },
  {
    file: '05-nn-modules.test.ts',
    code: '(nn.init as unknown as Record<string, InitFn>)[jsName(c.fn)]',
    exports: () => {
      const fx = JSON.parse(fs.readFileSync(path.join(TEST_DIR, 'fixtures', 'nn_modules.json'), 'utf8')) as { init: Record<string, Record<string, { fn: string }>> };
      const fns = [...Object.values(fx.init.cases), ...Object.values(fx.init.errors)].map((c) => jsName(c.fn));
      return fns.map((f) => (torch.nn.init as unknown as Record<string, unknown>)[f]);
    },
  },
];

/** Whether a test source checks against PyTorch (see the header). */
function checksAgainstPyTorch(file: string, src: string): boolean {
  if (file === '02-parity-cases.ts') return true;
  if (!file.endsWith('.test.ts') || file.startsWith('07-')) return false;
  const code = strip(src).code;
  return /\b(?:live)?[Ff]ixture\s*(?:<[^>]*>)?\s*\(/.test(code) || /\bpythonWithTorch\s*\(/.test(code) || /from\s+'\.\/02-parity-cases'/.test(src);
}

// ---- the checks ----------------------------------------------------------------------------------------------------

const surface = new Surface();

let scanned: Promise<{ files: string[]; covered: Set<Export> }> | null = null;

/** The test files that check against PyTorch, and the exports they refer to (scanned once). */
function coverage(): Promise<{ files: string[]; covered: Set<Export> }> {
  scanned ??= scan();
  return scanned;
}

async function scan(): Promise<{ files: string[]; covered: Set<Export> }> {
  const files = fs
    .readdirSync(TEST_DIR)
    .filter((f) => f.endsWith('.ts') && f !== path.basename(__filename))
    .filter((f) => checksAgainstPyTorch(f, fs.readFileSync(path.join(TEST_DIR, f), 'utf8')));
  const covered = new Set<Export>();
  for (const f of files) {
    const src = fs.readFileSync(path.join(TEST_DIR, f), 'utf8');
    const specs = new Set([...src.matchAll(/from\s+(['"])(\.\.\/lib[^'"]*)\1/g)].map((m) => m[2]));
    const modules = new Map<string, unknown>();
    for (const s of specs) modules.set(s, await import(/* @vite-ignore */ s));
    const refs = references(surface, src, modules);
    for (const e of refs.exports) covered.add(e);
    for (const name of refs.calls) for (const e of surface.members.get(name) ?? []) covered.add(e);
    for (const name of refs.reads) for (const e of surface.members.get(name) ?? []) if (e.kind === 'property') covered.add(e);
  }
  for (const t of TABLES) {
    if (!files.includes(t.file)) continue;
    for (const v of t.exports()) {
      const e = surface.byValue.get(v);
      if (e) covered.add(e);
    }
  }
  return { files, covered };
}

describe('the public surface', () => {
  it('is enumerated from lib/index.ts: every namespace and the members of Tensor, Module, Optimizer, LRScheduler, GradScaler', () => {
    const names = new Set(surface.exports.map((e) => e.name));
    for (const n of [
      'torch.zeros', 'torch.F.silu', 'torch.linalg.vectorNorm', 'torch.Tensor.add', 'torch.Tensor.shape', 'torch.Tensor.add_',
      'torch.nn.Linear', 'torch.nn.init.kaimingUniform_', 'torch.nn.utils.clipGradNorm_', 'torch.optim.SGD',
      'torch.optim.lrScheduler.StepLR', 'torch.amp.GradScaler', 'torch.autograd.grad', 'torch.data.DataLoader',
      'torch.PolicyLoss', 'torch.distiller.createKdPolicyFromArgs', 'torch.jit.load', 'torch.models.create', 'torch.save', 'torch.load',
      'torch.backends.cudnn.deterministic', 'torch.cuda.isAvailable', 'torch.nn.Module.stateDict', 'torch.optim.Optimizer.zeroGrad',
    ]) {
      expect(names.has(n), n).toBe(true);
    }
    // one export under several names is listed once; @internal declarations are not public
    expect(names.has('torch.nn.functional.silu')).toBe(false);
    expect(names.has('torch.nn.init.resetLinearLike')).toBe(false);
    expect(names.has('torch.Tensor.h')).toBe(false);
    expect(names.has('torch.amp.GradScaler.lazyInit')).toBe(false);
  });
});

describe('the scan of the test sources', () => {
  it('recognises the calling styles of the parity suites, and not calls in comments or strings', () => {
    const src = [
      "import * as torch from '../lib/index';",
      "import { kdLoss, nn as n, type Tensor } from '../lib/index';",
      'const F = torch.F;',
      'const { linalg } = torch;',
      '// F.selu(x) in a comment',
      'const cases = {',
      '  a: (x: Tensor) => F.silu(x),',
      '  b: (x: Tensor) => torch.nn.functional.softplus(x),',
      '  c: (x: Tensor) => linalg.norm(x),',
      '  d: (x: Tensor, y: Tensor) => kdLoss(x, y, 2),',
      '  e: () => new n.Linear(2, 3),',
      '  f: (x: Tensor) => x.exp2().shape,',
      '  g: [F.relu6, F.elu],',
      "  h: () => expect(() => 0).toThrow('F.celu(x) in a string'),",
      '  i: (x: Tensor) => [...torch.stack([x])],',
      '  j: (x: Tensor) => torch',
      '    .cat([x])',
      '    .logSoftmax(1),',
      '};',
      "for (const op of ['neg', 'abs'] as const) same(torch[op](a), a[op]());",
      "for (const op of ['sigmoid'] as const) same(F[op](a), a.clone());",
    ].join('\n');
    const refs = references(surface, src, new Map([['../lib/index', torch]]));
    expect([...refs.exports].map((e) => e.name).sort()).toEqual(
      ['torch.F.elu', 'torch.F.relu6', 'torch.F.sigmoid', 'torch.F.silu', 'torch.F.softplus', 'torch.abs', 'torch.cat', 'torch.kdLoss', 'torch.linalg.norm', 'torch.neg', 'torch.nn.Linear', 'torch.stack'].sort(),
    );
    for (const m of ['exp2', 'logSoftmax', 'neg', 'abs', 'clone']) expect(refs.calls.has(m), m).toBe(true);
    expect(refs.reads.has('shape')).toBe(true);
    for (const m of ['selu', 'celu', 'silu', 'softplus', 'norm', 'stack', 'sigmoid']) expect(refs.calls.has(m), m).toBe(false);
  });

  it('counts the files that read a PyTorch fixture, run the oracle or use the parity case runner', async () => {
    const { files } = await coverage();
    for (const f of ['02-ops-spec.test.ts', '02-functional.test.ts', '02-parity-cases.ts', '05-nn-modules.test.ts', '05-nn.test.ts', '04-kd-loss.test.ts']) {
      expect(files, f).toContain(f);
    }
    for (const f of ['02-ops-options.test.ts', '03-lifetime.test.ts', '07-cuda.test.ts', 'helpers.ts']) expect(files, f).not.toContain(f);
  });

  it('the calls by a computed name that TABLES reads are still made that way', () => {
    for (const t of TABLES) expect(fs.readFileSync(path.join(TEST_DIR, t.file), 'utf8'), t.file).toContain(t.code);
  });
});

describe('every export has a test against PyTorch', () => {
  it('each export is referred to by a test file that checks against PyTorch, or is listed with a reason', async () => {
    const { covered } = await coverage();
    const uncovered = surface.exports.filter((e) => !covered.has(e) && !(e.name in NO_PYTORCH_COUNTERPART)).map((e) => e.name);
    expect(uncovered, `exports without a test against PyTorch:\n  ${uncovered.join('\n  ')}\n`).toEqual([]);
  });

  it('the list of exports without a PyTorch counterpart names only exports', () => {
    const names = new Set(surface.exports.map((e) => e.name));
    expect(Object.keys(NO_PYTORCH_COUNTERPART).filter((n) => !names.has(n))).toEqual([]);
  });

  it('the list of exports without a PyTorch counterpart names none that a PyTorch test refers to', async () => {
    const { covered } = await coverage();
    const tested = surface.exports.filter((e) => covered.has(e) && e.name in NO_PYTORCH_COUNTERPART).map((e) => e.name);
    expect(tested).toEqual([]);
  });
});
