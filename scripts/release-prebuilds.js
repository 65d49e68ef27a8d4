#!/usr/bin/env node
'use strict';
/**
 * `npm run prebuild`: makes the prebuilt binary for this platform and the libtorch found here, with prebuildify
 * (N-API, stripped), named by the libtorch flavour so the loader can pick it: prebuilds/<platform>-<arch>/
 * torchkd-torch<major.minor>-<cpu|cuNNN>.node, plus the libtorch-free preloader (torchkd_preload.node).
 * Run it once per libtorch flavour to ship (CPU here; CUDA on a CUDA machine) before `npm pack`.
 */
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const { discover, describe } = require('./libtorch.js');
const info = discover();
if (!info.ok) {
  process.stderr.write(`prebuild: ${describe(info)}\n`);
  process.exit(1);
}
process.stderr.write(`prebuild: ${describe(info)} -> flavour ${info.flavor}\n`);
const prefix = path.dirname(path.dirname(process.execPath));
const env = { ...process.env };
if (fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) env.npm_config_nodedir = prefix;
const bin = path.join(root, 'node_modules', 'prebuildify', 'bin.js');
const r = spawnSync(process.execPath, [bin, '--napi', '--strip', '--name', `torchkd-${info.flavor}`,
  '--node-gyp', path.join(root, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js')], { cwd: root, stdio: 'inherit', env });
if (r.status !== 0) process.exit(r.status || 1);
const dir = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`);
fs.copyFileSync(path.join(root, 'build', 'Release', 'torchkd_preload.node'), path.join(dir, 'torchkd_preload.node'));
// prebuildify's node-gyp run left a source build behind; record what it was built against for the loader.
fs.writeFileSync(path.join(root, 'build', 'torchkd-build.json'), JSON.stringify({ flavor: info.flavor, libtorch: info.versionString, root: info.root }, null, 2));
for (const f of fs.readdirSync(dir)) process.stdout.write(`${path.join('prebuilds', path.basename(dir), f)}\n`);
