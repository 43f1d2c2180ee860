import { bitsPerByte, corpusBleu, perplexity, rouge } from './index.js';

/**
 * The README example, run by the browser test in headless Chromium and in Node: perplexity,
 * bits per byte, sacreBLEU-compatible BLEU and rouge-score-compatible ROUGE-L.
 */
export default async function browserSmoke(): Promise<Record<string, unknown>> {
  const logprobs = [-2.1, -0.4, -0.9];
  const bleu = corpusBleu(
    ['The dog bit the man.', "It wasn't surprising."],
    [['The dog bit the man.', 'It was not unexpected.']],
  );
  return {
    perplexity: perplexity(logprobs),
    bitsPerByte: bitsPerByte(logprobs, 'hello'),
    bleu: bleu.score,
    bleuSignature: bleu.signature,
    rougeL: rouge('the cat sat', 'the cat sat down', ['rougeL']).rougeL!.fmeasure,
  };
}
