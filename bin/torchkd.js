#!/usr/bin/env node
'use strict';
// The `torchkd` command: train, parity, doctor, demo (see `torchkd --help`).
require('../dist/cli/main.js')
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });
