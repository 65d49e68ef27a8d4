/**
 * Internal: PyTorch's module printout (nn.Module.__repr__ and _addindent) and its data form for toJSON.
 */
import type { Module } from './module';

/** Indents every line but the first by `n` spaces (PyTorch's _addindent). */
export function addIndent(s: string, n: number): string {
  const lines = s.split('\n');
  if (lines.length === 1) return s;
  return [lines[0], ...lines.slice(1).map((l) => ' '.repeat(n) + l)].join('\n');
}

/** The default printout: extra_repr on one line when there are no children, else one line per child. */
export function moduleRepr(m: Module): string {
  const extra = m.extraRepr();
  const extraLines = extra ? extra.split('\n') : [];
  const childLines: string[] = [];
  for (const [key, mod] of m._modules) childLines.push(`(${key}): ${addIndent(mod === null ? 'None' : String(mod), 2)}`);
  const lines = [...extraLines, ...childLines];
  let main = `${m.constructor.name}(`;
  if (lines.length) {
    if (extraLines.length === 1 && !childLines.length) main += extraLines[0];
    else main += `\n  ${lines.join('\n  ')}\n`;
  }
  return `${main})`;
}

/** A module tree as data (what `JSON.stringify(module)` gives). */
export interface ModuleTree {
  type: string;
  extra?: string;
  children?: Record<string, ModuleTree | null>;
}

export function moduleTree(m: Module): ModuleTree {
  const out: ModuleTree = { type: m.constructor.name };
  const extra = m.extraRepr();
  if (extra) out.extra = extra;
  if (m._modules.size) {
    out.children = {};
    for (const [k, c] of m._modules) out.children[k] = c === null ? null : c.toJSON();
  }
  return out;
}
