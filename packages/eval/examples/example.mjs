import { bitsPerByte, perplexity } from '@tessera/eval';

// Natural-log probabilities a model gave to each token of "hello".
const logprobs = [-2.1, -0.4, -0.9];
console.log(
  'perplexity',
  perplexity(logprobs).toFixed(3),
  'bits/byte',
  bitsPerByte(logprobs, 'hello').toFixed(3),
);
