// CommonJS: Node >= 20.19 loads the ES module through require(esm).
const { AdaptiveKLController, packSequences } = require('@tessera/rlhf');

const batch = packSequences([{ ids: [1, 2, 3, 4, 5] }, { ids: [6, 7] }, { ids: [8, 9, 10] }], {
  length: 5,
});
console.log(`packed 3 examples into ${batch.rows} rows: ${JSON.stringify(batch.examples)}`);

const kl = new AdaptiveKLController({ initKlCoef: 0.2, target: 6, horizon: 10000 });
kl.update(9, 256); // the policy drifted past the target KL: β grows
console.log(`KL coefficient after one update: ${kl.value.toFixed(5)}`);
