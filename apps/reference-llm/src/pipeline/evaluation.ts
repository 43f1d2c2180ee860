import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Device } from '@tessera/tensor-webgpu';
import { DEFAULT_DATA } from '../data.js';
import { evaluateModel } from '../evaluate.js';
import { type ModelState, readModel, readTokenizer } from '../load.js';
import type { PretrainState } from '../pretrain.js';
import { readCheckpoint } from '../run-folder.js';
import { heldoutArithmetic } from '../tuning/arithmetic-task.js';
import { addChatTokens, ChatFormat, resizeVocabulary } from '../tuning/chat-format.js';
import { chatLanguageModel } from '../tuning/chat-language-model.js';
import { runChatTask } from '../tuning/chat-task.js';
import { instructionData, preferenceData } from '../tuning/datasets.js';
import { sourceText } from '../tuning/examples.js';
import { parsePreferenceExample, readJsonl } from '../tuning/jsonl.js';
import { likelihoodPreferenceAccuracy } from '../tuning/preference-accuracy.js';
import { recipeFor, type TuningRecipe } from '../tuning/recipes.js';

/** The same measures of every stage's checkpoint: one row of the pipeline's table. */
export interface StageRow {
  stage: string;
  /** Validation bits per byte of the pretraining text (`evaluateCheckpoint`); null for the reward model. */
  bitsPerByte: number | null;
  /**
   * Held-out instruction-task accuracy, 0–1: the benchmark runner's score of greedy ChatML
   * replies, 0-shot (`runChatTask`); null for the reward model.
   */
  accuracy: number | null;
  /** Format compliance of the same replies, 0–1; null for the reward model. */
  format: number | null;
  /**
   * Accuracy on GRPO's held-out multi-step arithmetic (seed 1, greedy ChatML replies through the
   * benchmark runner, 0-shot, as `heldoutArithmetic` and `tasks` score it), 0–1; null for the
   * reward model (absent from rows measured before it was added).
   */
  arithmetic?: number | null;
  /**
   * The language model's preference accuracy on the held-out preference pairs, 0–1: the share
   * where the chosen reply has the higher mean per-token log-likelihood given the prompt
   * (`likelihoodPreferenceAccuracy`); null for the reward model (absent from rows measured
   * before it was added).
   */
  likelihoodPreferenceAccuracy?: number | null;
  /** The reward model's own held-out preference-pair accuracy, 0–1 (its stage's final evaluation: its score of the chosen reply is the higher); null for the other stages. */
  preferenceAccuracy: number | null;
  /** The first held-out question and the stage's greedy reply; null for the reward model. */
  sample: StageAnswer | null;
}

/** A held-out question and a stage's greedy reply. */
export interface StageAnswer {
  question: string;
  reply: string;
}

/** A stage's row, and every held-out reply behind it (what a judge compares). */
export interface StageEvaluation {
  row: StageRow;
  /** Empty for the reward model. */
  answers: StageAnswer[];
}

export interface StageEvaluationOptions {
  device: Device;
  /** The pipeline's pretraining folder: its text gives the validation split and the task lines. */
  pretrain: string;
  /** The tuning recipe (held-out size, reply length); default the pretrained preset's. */
  recipe?: TuningRecipe;
  /**
   * The held-out preference pairs (JSONL, as `reward` and `dpo` write `data/pairs-heldout.jsonl`);
   * default the pairs those stages generate: seed 1, the recipe's `dpo.heldout` of them.
   */
  pairs?: string;
}

/**
 * Measures one stage's checkpoint in `dir`: validation bits per byte on the pretraining text's
 * validation split; through `@tessera/eval`'s benchmark runner (`runChatTask`: 0-shot, greedy
 * replies in the ChatML the tuned stages were trained on, all of a task decoded in one batch),
 * task accuracy and format compliance on the held-out instruction questions (`instructionData`
 * with seed 1, the split `sft` holds out by default) and accuracy on GRPO's held-out multi-step
 * arithmetic (`heldoutArithmetic`: seed 1, the recipe's `grpo.heldout` problems and reply length); and the preference
 * accuracy on the held-out preference pairs — the share where the chosen reply has the higher
 * mean per-token log-likelihood given the prompt (`likelihoodPreferenceAccuracy`). A model
 * without chat tokens (the pretrained one) gets them as `sft` adds them (new embedding rows at
 * the mean), so its row shows the starting point. The reward model's row holds its own held-out
 * pair accuracy (its score of the chosen reply is the higher), read from its report. Returns the
 * row and every reply to the instruction questions.
 */
export async function evaluateStage(
  stage: string,
  dir: string,
  o: StageEvaluationOptions,
): Promise<StageEvaluation> {
  if (stage === 'reward') {
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
    const row = {
      stage,
      bitsPerByte: null,
      accuracy: null,
      format: null,
      arithmetic: null,
      likelihoodPreferenceAccuracy: null,
      preferenceAccuracy: report.after.accuracy,
      sample: null,
    };
    return { row, answers: [] };
  }
  const source = readCheckpoint<PretrainState>(o.pretrain);
  const path = source.state.data?.path;
  const data = path === undefined || path === 'bundled' ? DEFAULT_DATA : path;
  const recipe = o.recipe ?? recipeFor(source.state.preset.name);
  const heldout = instructionData(1, sourceText(source), {
    train: 0,
    heldout: recipe.sft.heldout,
  }).heldout;
  const ckpt = readCheckpoint<ModelState>(dir);
  let model = readModel(ckpt, o.device);
  const saved = readTokenizer(ckpt, model.vocabSize);
  try {
    // Bits per byte of the model as saved, before chat tokens widen its vocabulary.
    const { bitsPerByte } = await evaluateModel(model.eval(), saved, dir, { data });
    const tokenizer = addChatTokens(saved);
    if (model.vocabSize !== tokenizer.vocabSize)
      model = resizeVocabulary(model, tokenizer.vocabSize);
    const chat = new ChatFormat(tokenizer);
    const lm = chatLanguageModel(model.eval(), chat, dir);
    const instructions = await runChatTask(lm, chat, 'instructions', heldout, recipe.replyTokens);
    const arithmetic = await heldoutArithmetic(model, chat, dir, {
      seed: 1,
      count: recipe.grpo.heldout,
      maxNewTokens: recipe.grpo.maxNewTokens,
    });
    const pairs = o.pairs
      ? readJsonl(o.pairs, parsePreferenceExample)
      : preferenceData(1, sourceText(source), { train: 0, heldout: recipe.dpo.heldout }).heldout;
    const answers = instructions.answers.map((a) => ({ question: a.question, reply: a.reply }));
    const row = {
      stage,
      bitsPerByte,
      accuracy: instructions.result.metrics.accuracy!,
      format: instructions.result.metrics.format!,
      arithmetic: arithmetic.metrics.accuracy!,
      likelihoodPreferenceAccuracy: await likelihoodPreferenceAccuracy(
        model,
        chat,
        pairs,
        recipe.dpo.batchSize,
      ),
      preferenceAccuracy: null,
      sample: answers[0] ?? null,
    };
    return { row, answers };
  } finally {
    model.dispose();
  }
}
