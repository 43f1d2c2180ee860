import { bitsPerByte, corpusBleu, perplexity, rouge } from '@tessera/eval';

// Natural-log probabilities a model gave to each token of "hello".
const logprobs = [-2.1, -0.4, -0.9];
console.log(
  'perplexity',
  perplexity(logprobs).toFixed(3),
  'bits/byte',
  bitsPerByte(logprobs, 'hello').toFixed(3),
);

// Corpus BLEU as sacreBLEU computes it, and ROUGE-L as rouge-score does.
const hypotheses = ['The dog bit the man.', "It wasn't surprising."];
const references = [['The dog bit the man.', 'It was not unexpected.']];
const bleu = corpusBleu(hypotheses, references);
console.log(`BLEU ${bleu.score.toFixed(2)} (${bleu.signature})`);
console.log(
  'ROUGE-L F',
  rouge('the cat sat', 'the cat sat down', ['rougeL']).rougeL.fmeasure.toFixed(3),
);
