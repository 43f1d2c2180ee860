#!/usr/bin/env bash
# Packs what a GPU machine with no Node needs to run the reference app into .device/ (git-ignored):
# the app bundled into one file (every @tessera package inlined), the `webgpu` package with its
# Linux x64 Dawn addon, this machine's `node`, and the Vulkan loader from Debian. Carry `.device`
# to the machine and run scripts/device/run.sh there. Needs x86-64 Linux, npm ci done, and apt.
set -euo pipefail
cd "$(dirname "$0")/../.."
kit=.device
rm -rf "$kit"
mkdir -p "$kit/node_modules/webgpu/dist/linux-x64" "$kit/gl"

npx turbo run build --output-logs=errors-only
# The banner gives CommonJS dependencies (commander) the `require` an ES module lacks. The optional
# stores' libraries stay out — hnswlib-node and LanceDB (native addons), pg — all imported only
# when used: without hnswlib-node `rag index` uses the project's own HNSW, and `--store lancedb`
# or `pgvector` says what to install.
npx esbuild apps/reference-llm/src/cli.ts --bundle --platform=node --format=esm --target=node20 \
  --external:webgpu --external:hnswlib-node --external:@lancedb/lancedb --external:apache-arrow \
  --external:pg --log-level=warning --outfile="$kit/reference-llm.mjs" \
  --banner:js="import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);"
cp node_modules/webgpu/index.js node_modules/webgpu/package.json "$kit/node_modules/webgpu/"
xz -T0 -6 -c node_modules/webgpu/dist/linux-x64/dawn.node \
  > "$kit/node_modules/webgpu/dist/linux-x64/dawn.node.xz"
xz -T0 -6 -c "$(command -v node)" > "$kit/node.xz"

# The Vulkan loader (libvulkan.so.1), which the GPU machine's image may lack; the NVIDIA driver
# there provides the ICD.
lists=$(mktemp -d)
mkdir -p "$lists/partial"
apt=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 "-oDir::State::Lists=$lists")
apt-get "${apt[@]}" -qq update
(cd "$kit/gl" && apt-get "${apt[@]}" -qq download libvulkan1)
rm -rf "$lists"
du -sh "$kit"
