// CommonJS: Node >= 20.19 loads the ES modules through require(esm).
const { inverseFrequencies } = require('@tessera/rope');

const { invFreq, attentionFactor } = inverseFrequencies({
  dim: 8,
  scaling: { type: 'yarn', factor: 4, originalMaxPositions: 2048 },
});
console.log(
  `YaRN frequencies: ${Array.from(invFreq, (f) => f.toExponential(2)).join(', ')}; attention factor ${attentionFactor.toFixed(3)}`,
);
