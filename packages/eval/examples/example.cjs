// CommonJS: Node >= 20.19 loads the ES module through require(esm).
const { perplexity } = require('@tessera/eval');

console.log(`perplexity of a uniform 4-way guess: ${perplexity([-Math.log(4), -Math.log(4)])}`);
