#!/usr/bin/env node
'use strict';
/**
 * npm "install" hook (node-gyp-build style): use a prebuilt binary when one matches the libtorch found here,
 * otherwise build from source with node-gyp when a compiler is available. It never fails the install: when neither
 * works it says why, and `require('torchkd')` then raises one clear error (see `npx torchkd doctor`).
 * In a torchkd source checkout it does nothing: scripts/setup.js builds there.
 */
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
if (fs.existsSync(path.join(root, 'lib', 'index.ts'))) process.exit(0);

const { discover, describe } = require('./libtorch.js');
const info = discover();
const say = (m) => process.stderr.write(`torchkd: ${m}\n`);

if (!info.ok) {
  say(`${describe(info)}. torchkd needs PyTorch's libtorch at run time:`);
  for (const f of info.fix) say(`  ${f}`);
  process.exit(0);
}

const dir = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`);
const flavors = [info.flavor, ...(info.cuda ? [info.flavor.replace(/-cu\d+$/, '-cpu')] : [])];
const prebuilt = fs.existsSync(dir) && fs.readdirSync(dir).find((f) => flavors.some((fl) => f.startsWith(`torchkd-${fl}.`)));
if (prebuilt) {
  say(`using prebuilt ${prebuilt} for ${describe(info)}`);
  process.exit(0);
}

say(`no prebuilt binary for ${info.flavor}; building from source against ${describe(info)}`);
const gyp = process.env.npm_config_node_gyp || 'node-gyp';
const r = gyp.endsWith('.js')
  ? spawnSync(process.execPath, [gyp, 'rebuild'], { cwd: root, stdio: 'inherit' })
  : spawnSync(gyp, ['rebuild'], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
if (r.status === 0) {
  fs.writeFileSync(path.join(root, 'build', 'torchkd-build.json'), JSON.stringify({ flavor: info.flavor, libtorch: info.versionString, root: info.root }, null, 2));
} else {
  say(`the source build failed (exit ${r.status}; the cause is in the output above; it needs a C++20 compiler, make and python3); torchkd will not load until it is built`);
  say('or until a PyTorch matching a prebuilt binary is installed. `npx torchkd doctor` shows what was found.');
}
process.exit(0);
