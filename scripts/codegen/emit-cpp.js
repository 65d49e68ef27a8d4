'use strict';
/**
 * C++ emission: one N-API function per signature (and per Tensor/Scalar combination), reading the arguments the
 * generated TypeScript validated and calling the spec's libtorch expression, all registered under the one guard.
 */
const { VARIANT } = require('./signature');
const { variantsOf } = require('./emit-ts');

function cppReturn(ret, expr) {
  switch (ret) {
    case 'Tensor':
    case 'BoolTensor':
      return `return wrap(info, ${expr});`;
    case 'Tensor[]':
      return `return wrapList(info, ${expr});`;
    case 'ValuesIndices':
      return `auto r_ = ${expr};\n  return wrapList(info, {std::get<0>(r_), std::get<1>(r_)});`;
    case 'bool':
      return `return Napi::Boolean::New(info.Env(), ${expr});`;
    case 'float':
      return `return Napi::Number::New(info.Env(), static_cast<double>(${expr}));`;
    case 'int':
      return `return Napi::Number::New(info.Env(), static_cast<double>(${expr}));`;
    case 'self':
      return `${expr};\n  return info.Env().Undefined();`;
    default:
      throw new Error(`unknown return ${ret}`);
  }
}

function cppResultType(ret) {
  return { Tensor: 'at::Tensor', BoolTensor: 'at::Tensor', 'Tensor[]': 'std::vector<at::Tensor>', bool: 'bool', float: 'double', int: 'int64_t', self: 'void' }[ret];
}

/** The C++ expression of a signature for one variant (a string, or {T, S, TT, ...} per variant). */
function expressionFor(ov, suffix) {
  if (typeof ov.cpp === 'string') return ov.cpp;
  const key = suffix.replace(/^_/, '');
  if (ov.cpp[key] === undefined) throw new Error(`${ov.native}: no C++ for variant ${key}`);
  return ov.cpp[key];
}

function emitFunction(ov, v) {
  const name = `${ov.native}${v.suffix}`;
  const lines = [];
  lines.push(`// ${ov.signature} -> ${ov.ret}${v.suffix ? ` [${v.suffix.slice(1)}]` : ''}`);
  lines.push(`Napi::Value ${name}(const Napi::CallbackInfo& info) {`);
  const expr = expressionFor(ov, v.suffix).trim();
  ov.params.forEach((p, i) => {
    const info = p.variants ? VARIANT[v.kinds[p.name]] : p.info;
    let decl = info.cpp(p.name, i, p);
    // libtorch's in-place free functions (at::relu_(Tensor&)) take a mutable handle: a copy of the tensor handle.
    if (p.type === 'Tensor' && new RegExp(`at::\\w+_\\(\\s*${p.name}\\b`).test(expr)) decl = decl.replace('const at::Tensor&', 'at::Tensor');
    lines.push(`  ${decl}`);
  });
  if (expr.startsWith('{')) {
    // A statement block: a lambda returning the result.
    const rt = cppResultType(ov.ret);
    const block = expr.split('\n').map((l, i) => (i === 0 ? l : `  ${l.replace(/^\s{0,4}/, '  ')}`)).join('\n');
    if (ov.ret === 'ValuesIndices') lines.push(`  auto r_ = [&]() ${block}();`, '  return wrapList(info, {std::get<0>(r_), std::get<1>(r_)});');
    else if (ov.ret === 'self') lines.push(`  [&]() -> void ${block}();`, '  return info.Env().Undefined();');
    else lines.push(`  auto r_ = [&]() -> ${rt} ${block}();`, `  ${cppReturn(ov.ret, 'std::move(r_)')}`);
  } else {
    lines.push(`  ${cppReturn(ov.ret, expr)}`);
  }
  lines.push('}');
  return { name, lines };
}

/** One C++ file per spec file (so that editing one rebuilds one), registered by `init`. */
function emitNative(ops, header, init) {
  const out = [header, '#include "addon.h"', '#include "op_support.h"', '', 'namespace torchkd {', 'namespace {', ''];
  const names = [];
  for (const op of ops) {
    for (const ov of op.overloads) {
      for (const v of variantsOf(ov)) {
        const f = emitFunction(ov, v);
        out.push(...f.lines, '');
        names.push(f.name);
      }
    }
  }
  out.push('}  // namespace', '');
  out.push(`void ${init}(Napi::Env env, Napi::Object exports) {`);
  for (const n of names) out.push(`  exportGuarded(env, exports, "${n}", ${n});`);
  out.push('}', '', '}  // namespace torchkd', '');
  return out.join('\n');
}

module.exports = { emitNative };
