#!/usr/bin/env bash
# Prepares .gpu/ (ignored by git) for scripts/gpu-check.sh on a GPU machine that has no Node.js and no registries:
# the node binary (xz), Node's headers, and the node_modules the build and the tests need. Also compiles dist/.
# Then, with the device tool: run `bash scripts/gpu-check.sh` with carry [".gpu", "dist"].
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .gpu
node scripts/setup.js --build --quiet
xz -T2 -6 -c "$(command -v node)" > .gpu/node.xz
prefix=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")
tar -C "$prefix" -cJf .gpu/node-headers.tar.xz include/node
# Everything but the compilers and type packages the GPU run does not use.
tar -cJf .gpu/node_modules.tar.xz --exclude=node_modules/typescript --exclude=node_modules/@types \
  --exclude=node_modules/node-gyp --exclude=node_modules/cmake-js --exclude=node_modules/prebuildify node_modules
du -sh .gpu/* dist
