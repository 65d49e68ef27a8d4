'use strict';
/**
 * Module constructors (lib/generated/modules.ts): for each layer and loss in scripts/codegen/modules/*.js, the
 * resolved-arguments interface, a parser with the ops' calling convention (positional, or any parameter by name in a
 * trailing options object, e.g. `new nn.Conv2d(3, 128, {kernelSize: 3, padding: 1})`), and the public class, whose
 * constructor hands the resolved arguments to the hand-written implementation in lib/nn/layers/.
 */
const { declarations, body } = require('./emit-ts');

const q = (s) => JSON.stringify(s);

/** The TS type of a parameter once checked (int[N] becomes number[], a union its members' checked types). */
function resolvedType(p) {
  const info = p.info;
  const one = (i, type) => {
    if (i.kind === 'intlist') return i.nullable ? 'number[] | null' : 'number[]';
    if (type === 'Tensor|Scalar') return 'Tensor | Scalar';
    return i.ts;
  };
  if (info.kind === 'union') return info.members.map((m) => one(m)).join(' | ');
  return one(info, p.type);
}

function emitModule(m) {
  const lines = [];
  const fnVar = `'nn.${m.name}()'`;
  const keys = `K_ctor_${m.name}`;
  lines.push(`/** The checked constructor arguments of {@link ${m.name}}, defaults applied. */`);
  lines.push(`export interface ${m.name}Args {`);
  for (const p of m.params) lines.push(`  ${p.name}: ${resolvedType(p)};`);
  lines.push('}');
  lines.push(`const ${keys} = new Set(${q(m.params.map((p) => p.name))});`);
  lines.push(`function parse${m.name}(a: unknown[]): ${m.name}Args {`);
  lines.push('  let n = a.length;');
  lines.push('  let o: Opts | undefined;');
  lines.push('  if (n !== 0 && A.isOptions(a[n - 1])) o = a[--n] as Opts;');
  lines.push(...body({}, m.params, 'ctor', fnVar, keys, '  '));
  lines.push('}');
  lines.push(`/** ${m.doc} */`);
  lines.push(`export class ${m.name} extends L.${m.impl} {`);
  for (const d of declarations(m.name, m.params, null, 'ctor', null)) lines.push(`  ${d}`);
  lines.push('  constructor(...a: unknown[]) {');
  lines.push(`    super(parse${m.name}(a), ${q(m.name)});`);
  lines.push('  }');
  lines.push('}');
  return lines;
}

module.exports = { emitModule };
