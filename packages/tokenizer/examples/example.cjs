// CommonJS: Node >= 20.19 loads the ES module through require(esm).
const { trainBpe } = require('@tessera/tokenizer');

const tok = trainBpe(['hello hello hello world'], { vocabSize: 260 });
console.log(`${tok.countTokens('hello world')} tokens for "hello world"`);
