#!/usr/bin/env bash
# Prepares .gpu/ (ignored by git) for scripts/gpu-check.sh on a GPU machine that has no Node.js and no registries:
# the node binary (xz), Node's headers, the node_modules the build, the prebuild and the tests need, and a small
# Fashion-MNIST folder (the 10k test split, also standing in as the training split) for a short CUDA training run.
# Also compiles dist/. Then, with the device tool: run `bash scripts/gpu-check.sh` with carry [".gpu", "dist"].
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .gpu/fmnist
node scripts/setup.js --build --quiet
xz -T2 -6 -c "$(command -v node)" > .gpu/node.xz
prefix=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")
tar -C "$prefix" -cJf .gpu/node-headers.tar.xz include/node
# Everything but the TypeScript compiler, type packages and cmake-js, which the GPU run does not use.
tar -cJf .gpu/node_modules.tar.xz --exclude=node_modules/typescript --exclude=node_modules/@types \
  --exclude=node_modules/cmake-js node_modules
data=${TORCHKD_FMNIST:-/usr/share/datasets/fashion-mnist}
for kind in images-idx3 labels-idx1; do
  cp "$data/t10k-$kind-ubyte.gz" ".gpu/fmnist/t10k-$kind-ubyte.gz"
  cp "$data/t10k-$kind-ubyte.gz" ".gpu/fmnist/train-$kind-ubyte.gz"
done
du -sh .gpu/* dist
