// CommonJS: Node >= 20.19 loads the ES module through require(esm).
const {
  formatReward,
  numericAnswerReward,
  overlongPenalty,
  parseNumber,
} = require('@tessera/grpo');

const completion = '<think>12 × 100 + 34</think><answer> 1,234. </answer>';
console.log(
  `answer ${parseNumber('1,234.')}: reward ${numericAnswerReward(completion, { answer: 1234 })}, format ${formatReward(completion)}`,
);
console.log(
  `overlong penalty at 90 of 100 tokens: ${overlongPenalty(90, { maxLength: 100, bufferLength: 20 })}`,
);
