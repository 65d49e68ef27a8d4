#!/usr/bin/env node
'use strict';
/**
 * `npm run build:ts`: the TypeScript build into dist/ from scratch (a stale dist/x.js left by a file that became a
 * folder would shadow dist/x/index.js), then the ES-module entry (scripts/make-esm.js).
 */
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
fs.rmSync(path.join(root, 'dist'), { recursive: true, force: true });
for (const argv of [
  [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(root, 'tsconfig.build.json')],
  [path.join(root, 'scripts', 'make-esm.js')],
]) {
  const r = spawnSync(process.execPath, argv, { stdio: 'inherit', cwd: root });
  if (r.status !== 0) process.exit(r.status || 1);
}
