'use strict';
/**
 * TypeScript emission: the typed native interface, the Tensor methods, and the torch.* / F.* functions.
 *
 * Every generated function takes `(...a)`, pulls a trailing options object off (a plain object after the positional
 * arguments), merges it with the positional ones (a name given both ways is Python's "got multiple values" error, an
 * unknown name lists the valid ones), applies the defaults, validates each value once (lib/tensor/args.ts) and calls
 * one native function. Ops with several signatures (torch.max(x) / max(x, dim) / max(x, other)) try them in order,
 * as PyTorch's Python argument parser does, and name them all when none fits.
 */
const { tsDefault, kindTest } = require('./signature');

const q = (s) => JSON.stringify(s);

/** The parameters a form shows: methods drop `self`; functions call it `input`. */
function formParams(params, form) {
  if (form === 'method') {
    if (!params.length || params[0].name !== 'self') throw new Error('a method needs a leading `Tensor self`');
    return params.slice(1);
  }
  return params.map((p, i) => (i === 0 && p.name === 'self' ? { ...p, name: 'input' } : p));
}

function retType(ret, form) {
  switch (ret) {
    case 'Tensor':
      return 'Tensor';
    case 'BoolTensor':
      return 'BoolTensor';
    case 'Tensor[]':
      return 'Tensor[]';
    case 'ValuesIndices':
      return 'ValuesIndices';
    case 'bool':
      return 'boolean';
    case 'float':
    case 'int':
      return 'number';
    case 'self':
      return form === 'method' ? 'this' : 'Tensor';
    default:
      throw new Error(`unknown return type ${ret}`);
  }
}

function nativeRet(ret) {
  return { Tensor: 'H', BoolTensor: 'H', 'Tensor[]': 'H[]', ValuesIndices: '[H, H]', bool: 'boolean', float: 'number', int: 'number', self: 'void' }[ret];
}

function optional(p) {
  return p.hasDefault || p.info.nullable;
}

function tsParamType(p) {
  return p.info.ts;
}

/** TypeScript overload declarations: all-positional first, then shorter positional prefixes with the rest as options. */
function declarations(name, params, ret, form, doc) {
  const out = [];
  const rt = form === 'ctor' ? null : retType(ret, form);
  const positional = params.filter((p) => !p.kwOnly);
  const kw = params.filter((p) => p.kwOnly);
  const va = positional.length && positional[positional.length - 1].varargs ? positional[positional.length - 1] : null;
  // Leading required tensors of a function form (input, target, ...) are always positional in the typings.
  let minPos = 0;
  if (form !== 'method' && form !== 'ctor') while (minPos < positional.length && positional[minPos].type === 'Tensor' && !positional[minPos].varargs) minPos++;
  const optsType = (list) =>
    `{ ${list.map((p) => `${p.name}${optional(p) ? '?' : ''}: ${p.varargs ? (p.type === 'Tensor' ? 'Tensor[]' : 'number[]') : tsParamType(p)}`).join('; ')} }`;
  const prefix = form === 'method' || form === 'ctor' ? '' : 'export function ';
  const line = (args) => (form === 'ctor' ? `constructor(${args.join(', ')});` : `${prefix}${name}(${args.join(', ')}): ${rt};`);
  if (va) {
    const head = positional.slice(0, -1).map((p) => `${p.name}: ${tsParamType(p)}`);
    const elem = va.type === 'Tensor' ? 'Tensor' : 'number';
    const kwArg = kw.length ? [`options${kw.every(optional) ? '?' : ''}: ${optsType(kw)}`] : [];
    out.push(line([...head, `...${va.name}: ${elem}[]`]));
    out.push(line([...head, `${va.name}: ${elem}[]`, ...kwArg]));
    return doc ? [`/** ${doc} */`, ...out] : out;
  }
  for (let k = positional.length; k >= minPos; k--) {
    const rest = [...positional.slice(k), ...kw];
    if (k < positional.length && rest.length === 0) continue;
    const args = [];
    // TS wants optional parameters last: a required options object makes every shown parameter required.
    const optsOptional = rest.every(optional);
    let trailingOptional = optsOptional;
    const shown = positional.slice(0, k);
    const opt = shown.map(() => false);
    for (let i = shown.length - 1; i >= 0; i--) {
      trailingOptional = trailingOptional && optional(shown[i]);
      opt[i] = trailingOptional;
    }
    shown.forEach((p, i) => args.push(`${p.name}${opt[i] ? '?' : ''}: ${tsParamType(p)}`));
    if (rest.length) args.push(`options${optsOptional ? '?' : ''}: ${optsType(rest)}`);
    out.push(line(args));
  }
  return doc ? [`/** ${doc} */`, ...out] : out;
}

/**
 * The statements that parse `a` (n positional values, options o) for one signature and call native. `self` is the
 * receiver expression for methods (`this`), or null.
 */
function body(ov, params, form, fnVar, keysVar, indent) {
  const I = indent;
  const lines = [];
  const positional = params.filter((p) => !p.kwOnly);
  const kw = params.filter((p) => p.kwOnly);
  const va = positional.length && positional[positional.length - 1].varargs ? positional[positional.length - 1] : null;
  const local = (p) => `${p.name}_`;
  if (va) {
    const pre = positional.length - 1;
    positional.slice(0, -1).forEach((p, i) => lines.push(`let ${local(p)}: unknown = n > ${i} ? a[${i}] : undefined;`));
    lines.push(`let ${local(va)}: unknown = n === ${pre + 1} && Array.isArray(a[${pre}]) ? a[${pre}] : n > ${pre} ? a.slice(${pre}, n) : undefined;`);
  } else {
    lines.push(`if (n > ${positional.length}) throw A.tooMany(${fnVar}, ${positional.length}, n);`);
    positional.forEach((p, i) => lines.push(`let ${local(p)}: unknown = n > ${i} ? a[${i}] : undefined;`));
  }
  kw.forEach((p) => lines.push(`let ${local(p)}: unknown;`));
  if (params.length) {
    lines.push('if (o !== undefined) {');
    lines.push(`  A.onlyKeys(o, ${keysVar}, ${fnVar});`);
    positional.forEach((p, i) => {
      lines.push(`  if (o.${p.name} !== undefined) {`);
      lines.push(`    if (${va && p === va ? `${local(p)} !== undefined` : `n > ${i}`}) throw A.twice(${fnVar}, ${q(p.name)});`);
      lines.push(`    ${local(p)} = o.${p.name};`);
      lines.push('  }');
    });
    kw.forEach((p) => lines.push(`  ${local(p)} = o.${p.name};`));
    lines.push('}');
  } else {
    lines.push(`if (o !== undefined) A.onlyKeys(o, ${keysVar}, ${fnVar});`);
  }
  // Validation, in declaration order, with defaults.
  const args = form === 'method' ? ['this.h'] : [];
  if (form === 'ctor') {
    for (const p of params) {
      const v = local(p);
      if (p.hasDefault) lines.push(`if (${v} === undefined) ${v} = ${tsDefault(p)};`);
      else if (!p.info.nullable) lines.push(`if (${v} === undefined) throw A.missing(${fnVar}, ${q(p.name)});`);
      lines.push(`const ${p.name}$ = ${p.info.check(v, fnVar, p)};`);
    }
    lines.push(`return { ${params.map((p) => `${p.name}: ${p.name}$`).join(', ')} };`);
    return lines.map((l) => I + l);
  }
  const variantParams = [];
  for (const p of params) {
    const v = local(p);
    if (p.variants) {
      if (p.hasDefault) lines.push(`if (${v} === undefined) ${v} = ${tsDefault(p)};`);
      else lines.push(`if (${v} === undefined) throw A.missing(${fnVar}, ${q(p.name)});`);
      variantParams.push(p);
      args.push(null);
      continue;
    }
    if (p.hasDefault) lines.push(`if (${v} === undefined) ${v} = ${tsDefault(p)};`);
    else if (!p.info.nullable) lines.push(`if (${v} === undefined) throw A.missing(${fnVar}, ${q(p.name)});`);
    lines.push(`const ${p.name}$ = ${p.info.check(v, fnVar, p)};`);
    args.push(`${p.name}$`);
  }
  const call = (suffix, argList) => `R.${ov.native}${suffix}(${argList.join(', ')})`;
  const ret = (expr) => {
    switch (ov.ret) {
      case 'Tensor':
        return `return wrap(${expr});`;
      case 'BoolTensor':
        return `return wrap(${expr}) as BoolTensor;`;
      case 'Tensor[]':
        return `return wrapList(${expr});`;
      case 'ValuesIndices':
        return `return wrapPair(${expr});`;
      case 'self':
        return `ok(${expr});\nreturn ${form === 'method' ? 'this' : 'input_ as Tensor'};`;
      default:
        return `return ok(${expr});`;
    }
  };
  if (!variantParams.length) {
    lines.push(...ret(call('', args)).split('\n'));
  } else {
    // One native function per combination of Tensor (T) / Scalar (S) values.
    const emit = (k, suffix, argList, ind) => {
      if (k === variantParams.length) {
        for (const l of ret(call(`_${suffix}`, argList)).split('\n')) lines.push(ind + l);
        return;
      }
      const p = variantParams[k];
      const v = local(p);
      const slot = params.indexOf(p) + (form === 'method' ? 1 : 0);
      const withArg = (expr) => argList.map((x, i) => (i === slot ? expr : x));
      lines.push(`${ind}if (${v} instanceof Tensor) {`);
      emit(k + 1, `${suffix}T`, withArg(`${v}.h`), `${ind}  `);
      lines.push(`${ind}}`);
      lines.push(`${ind}if (A.isScalar(${v})) {`);
      emit(k + 1, `${suffix}S`, withArg(v), `${ind}  `);
      lines.push(`${ind}}`);
      lines.push(`${ind}throw A.bad(${fnVar}, ${q(p.name)}, 'a Tensor or a number', ${v});`);
    };
    emit(0, '', args, '');
  }
  return lines.map((l) => I + l);
}

/** The method or function for one op in one form. */
function emitOp(op, form) {
  const prefix = { method: 'Tensor.', F: 'F.', torch: 'torch.', linalg: 'torch.linalg.' }[form];
  const name = form === 'method' ? op.name : op.jsName;
  const fnVar = `'${prefix}${name}()'`;
  const lines = [];
  const ovs = op.overloads.filter((ov) => ov.on.has(form)).map((ov) => ({ ...ov, fparams: formParams(ov.params, form) }));
  const rts = [...new Set(ovs.map((ov) => retType(ov.ret, form)))];
  const keysFor = (ov, k) => `K_${form}_${name}${ovs.length > 1 ? `_${k}` : ''}`;
  const consts = [];
  ovs.forEach((ov, k) => {
    consts.push(`const ${keysFor(ov, k)} = new Set(${q(ov.fparams.map((p) => p.name))});`);
  });
  ovs.forEach((ov, k) => lines.push(...declarations(name, ov.fparams, ov.ret, form, k === 0 ? op.doc : null)));
  const head = form === 'method' ? `${name}(...a: unknown[]): ${rts.join(' | ')} {` : `export function ${name}(...a: unknown[]): ${rts.join(' | ')} {`;
  lines.push(head);
  lines.push('  let n = a.length;');
  lines.push('  let o: Opts | undefined;');
  lines.push('  if (n !== 0 && A.isOptions(a[n - 1])) o = a[--n] as Opts;');
  if (ovs.length === 1) {
    lines.push(...body(ovs[0], ovs[0].fparams, form, fnVar, keysFor(ovs[0], 0), '  '));
  } else {
    ovs.forEach((ov, k) => {
      const positional = ov.fparams.filter((p) => !p.kwOnly);
      const va = positional.length && positional[positional.length - 1].varargs;
      const conds = [];
      if (!va) conds.push(`n <= ${positional.length}`);
      conds.push(`(o === undefined || A.hasOnlyKeys(o, ${keysFor(ov, k)}))`);
      ov.fparams.forEach((p, i) => {
        const v = p.kwOnly ? `o?.${p.name}` : `(n > ${i} ? a[${i}] : o?.${p.name})`;
        const required = !optional(p) && !p.variants ? true : !p.hasDefault && !p.info.nullable;
        conds.push(required ? `A.given(${v}, (v) => ${kindTest(p, 'v')})` : `A.absentOr(${v}, (v) => ${kindTest(p, 'v')})`);
      });
      lines.push(`  if (${conds.join(' && ')}) {`);
      lines.push(...body(ov, ov.fparams, form, fnVar, keysFor(ov, k), '    '));
      lines.push('  }');
    });
    const sigs = ovs.map((ov) => `${name}(${ov.fparams.map((p) => `${p.varargs ? '...' : ''}${p.name}${optional(p) ? '?' : ''}: ${p.varargs ? (p.type === 'Tensor' ? 'Tensor[]' : 'number[]') : tsParamType(p)}`).join(', ')})`);
    lines.push(`  throw A.noSignature(${fnVar}, a, ${q(sigs)});`);
  }
  lines.push('}');
  return { lines, consts };
}

/** The typed native interface. */
function emitNativeInterface(ops) {
  const lines = [];
  for (const op of ops) {
    for (const ov of op.overloads) {
      for (const v of variantsOf(ov)) {
        const args = ov.params.map((p, i) => {
          if (p.variants) return `${p.name}: ${v.kinds[p.name] === 'T' ? 'H' : 'number | boolean'}`;
          return `${p.name}: ${p.info.native}`;
        });
        lines.push(`  ${ov.native}${v.suffix}(${args.join(', ')}): ${nativeRet(ov.ret)};`);
      }
    }
  }
  return lines;
}

/** The Tensor/Scalar combinations of one signature: [{suffix: '_TS', kinds: {other: 'T'}}] or one plain entry. */
function variantsOf(ov) {
  const vps = ov.params.filter((p) => p.variants);
  if (!vps.length) return [{ suffix: '', kinds: {} }];
  let combos = [{ suffix: '_', kinds: {} }];
  for (const p of vps) {
    const next = [];
    for (const c of combos) for (const k of ['T', 'S']) next.push({ suffix: c.suffix + k, kinds: { ...c.kinds, [p.name]: k } });
    combos = next;
  }
  return combos;
}

module.exports = { emitOp, emitNativeInterface, variantsOf, retType, declarations, body };
