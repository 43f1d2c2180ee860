#!/usr/bin/env bash
# Runs on the GPU machine, from the repository root, with .device/ carried (scripts/device/build-kit.sh
# made it): unpacks node, Dawn and the Vulkan loader, then profiles a training step and pretrains
# the preset within a time budget. Results go to $OUT (or /tmp/out).
#   PRESET=small MINUTES=6 bash scripts/device/run.sh
set -uo pipefail
kit=.device
out=${OUT:-/tmp/out}
preset=${PRESET:-small}
minutes=${MINUTES:-6}
mkdir -p "$out" /tmp/node

# The linker cache is read whole first: `ldconfig -p | grep -q` under pipefail fails by SIGPIPE.
ld_cache=$(ldconfig -p 2>/dev/null || true)
if [[ $ld_cache != *libvulkan.so.1* ]]; then
  for f in "$kit"/gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -f "$icd" ] && export VK_DRIVER_FILES=$icd
xz -dc "$kit/node.xz" > /tmp/node/node && chmod +x /tmp/node/node
export PATH=/tmp/node:$PATH
dawn="$kit/node_modules/webgpu/dist/linux-x64/dawn.node"
[ -f "$dawn" ] || xz -dk "$dawn.xz"
(command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv) | tee "$out/gpu.txt"

app=(node "$kit/reference-llm.mjs")
data=apps/reference-llm/data/tinyshakespeare.txt
run=$(mktemp -d)
# Each step runs even if one before it failed (its log says why); the exit status says whether all passed.
failed=0
"${app[@]}" profile --preset "$preset" --steps 20 --backend webgpu 2>&1 | tee "$out/profile.txt" || failed=1
"${app[@]}" pretrain --preset "$preset" --max-minutes "$minutes" --data "$data" --out "$run" \
  --backend webgpu 2>&1 | tee "$out/pretrain.log" || failed=1
"${app[@]}" eval --checkpoint "$run" --data "$data" --backend webgpu 2>&1 | tee "$out/eval.txt" || failed=1
"${app[@]}" generate --checkpoint "$run" --prompt 'ROMEO:' --max-new-tokens 300 --seed 1 \
  --backend webgpu 2>&1 | tee "$out/sample.txt" || failed=1
cp "$run/report.json" "$run/report.md" "$run/loss.svg" "$out/" || failed=1
exit $failed
