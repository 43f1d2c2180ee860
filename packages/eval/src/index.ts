/**
 * @packageDocumentation
 * Evaluation for language models, in plain TypeScript: perplexity and bits per byte, SQuAD exact
 * match and token F1, accuracy, pass@k and bootstrap confidence intervals, sacreBLEU's BLEU, chrF
 * and chrF++, rouge-score's ROUGE, NLTK's METEOR, an LLM-as-a-judge harness and a benchmark runner.
 */

export {
  accuracy,
  bootstrapCI,
  exactMatch,
  normalizeAnswer,
  passAtK,
  tokenF1,
} from './accuracy.js';
export {
  type BleuOptions,
  type BleuResult,
  type BleuSmoothing,
  corpusBleu,
  sentenceBleu,
} from './bleu.js';
export { type BleuTokenizer, tokenize13a, tokenizeIntl, tokenizeZh } from './bleu-tokenizers.js';
export { type ChrfOptions, type ChrfResult, corpusChrf, sentenceChrf } from './chrf.js';
export {
  type ChatMessage,
  type ChatModel,
  comparePairwise,
  type JudgeInput,
  type JudgeResult,
  type JudgeScale,
  judge,
  judgeMessages,
  type PairwiseItem,
  type PairwiseOptions,
  type PairwiseReport,
  type PairwiseWinner,
  parseVerdict,
  VerdictParseError,
} from './judge.js';
export {
  type LengthControlledFit,
  type LengthOutcome,
  lengthControlledWinRate,
} from './length-controlled.js';
export { corpusMeteor, type MeteorOptions, meteor } from './meteor.js';
export { bitsPerByte, bitsPerByteFromMeanNll, meanNll, perplexity } from './perplexity.js';
export { porterStem } from './porter.js';
export {
  corpusRouge,
  lcsIndices,
  type RougeOptions,
  type RougeScore,
  type RougeType,
  rouge,
  rougeTokenize,
} from './rouge.js';
export {
  type BenchmarkReport,
  buildPrompt,
  type DocResult,
  type GenerationDoc,
  type GenerationTask,
  type LanguageModel,
  type MultipleChoiceDoc,
  type MultipleChoiceTask,
  type RunOptions,
  reportToMarkdown,
  runBenchmark,
  type Task,
  type TaskResult,
  truncateAtStop,
} from './runner.js';
export { arithmeticTask, knowledgeQuizTask } from './tasks.js';
