// CommonJS: Node >= 20.19 loads the ES modules through require(esm).
const { attention, naiveAttention } = require('@tessera/attention-flash');
const { createDevice, randn } = require('@tessera/tensor-webgpu');

(async () => {
  const dev = await createDevice();
  const [q, k, v] = [1, 2, 3].map((seed) => randn([1, 2, 33, 32], { seed }));
  const a = await attention(q, k, v, { causal: true }).data();
  const b = await naiveAttention(q, k, v, { causal: true }).data();
  console.log(
    `max |flash − naive| = ${Math.max(...a.map((x, i) => Math.abs(x - b[i]))).toExponential(2)}`,
  );
  dev.destroy();
})();
