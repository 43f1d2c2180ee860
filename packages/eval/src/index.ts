/**
 * @packageDocumentation
 * Evaluation for language models, in plain TypeScript: perplexity and bits per byte, SQuAD exact
 * match and token F1, accuracy, pass@k and bootstrap confidence intervals. (BLEU, chrF, ROUGE,
 * METEOR, LLM-as-a-judge and the benchmark runner are to come.)
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
  type BleuTokenizer,
  corpusBleu,
  sentenceBleu,
  tokenize13a,
  tokenizeIntl,
} from './bleu.js';
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
