#!/usr/bin/env node
'use strict';
// Prints one group of scripts/native-sources.json, space separated, for binding.gyp's `<!@(...)` and for CMake.
const sources = require('./native-sources.json');
const group = process.argv[2];
if (!Array.isArray(sources[group])) {
  process.stderr.write(`unknown source group ${group}\n`);
  process.exit(1);
}
process.stdout.write(sources[group].join(process.argv[3] === '--cmake' ? ';' : ' '));
