#!/usr/bin/env node
'use strict';
/**
 * `npm run fixtures`: runs every scripts/fixtures/gen_*.py with the project venv's Python (the parity oracle),
 * regenerating test/fixtures/*.json. Commit the result together with the generator change.
 */
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const { discover } = require('../lib/libtorch.js');

const info = discover();
const python = process.env.TORCHKD_PYTHON || info.python;
if (!python) {
  console.error('fixtures: no Python with torch found (run `npm run setup` first)');
  process.exit(1);
}
const dir = path.join(__dirname, 'fixtures');
const only = process.argv.slice(2);
let failed = 0;
for (const f of fs.readdirSync(dir).filter((f) => /^gen_.*\.py$/.test(f)).sort()) {
  if (only.length && !only.some((o) => f.includes(o))) continue;
  const r = spawnSync(python, [path.join(dir, f)], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
