#!/usr/bin/env node
'use strict';
/**
 * Writes the ES-module entry (dist/esm/index.mjs + index.d.mts) over the CommonJS build, listing every export of
 * dist/index.js by name, so `import { tensor } from 'torchkd'` and `import * as torch from 'torchkd'` both work and
 * share one loaded binding with `require('torchkd')`.
 */
const fs = require('fs');
const path = require('path');

const dist = path.resolve(__dirname, '..', 'dist');
const src = fs.readFileSync(path.join(dist, 'index.js'), 'utf8');
// tsc emits `exports.name = ...` / Object.defineProperty(exports, "name", ...) for every export.
const names = new Set();
for (const m of src.matchAll(/Object\.defineProperty\(exports, "([A-Za-z_$][\w$]*)"/g)) names.add(m[1]);
for (const m of src.matchAll(/^exports\.([A-Za-z_$][\w$]*) = /gm)) names.add(m[1]);
names.delete('__esModule');
// `export * from './x'` re-exports come through __exportStar; list them from the compiled module itself.
const mod = require(path.join(dist, 'index.js'));
for (const k of Object.keys(mod)) names.add(k);
names.delete('default');
const list = [...names].sort();
const reserved = new Set(['var', 'default']);
const plain = list.filter((n) => !reserved.has(n));
let mjs = "import cjs from '../index.js';\n\n";
mjs += `export const { ${plain.join(', ')} } = cjs;\n`;
if (list.includes('var')) mjs += 'const torchkdVar = cjs.var;\nexport { torchkdVar as var };\n';
mjs += 'export default cjs;\n';
fs.mkdirSync(path.join(dist, 'esm'), { recursive: true });
fs.writeFileSync(path.join(dist, 'esm', 'index.mjs'), mjs);
fs.writeFileSync(
  path.join(dist, 'esm', 'index.d.mts'),
  "export * from '../index.js';\nimport * as torch from '../index.js';\nexport default torch;\n",
);
