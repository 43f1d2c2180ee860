import { join, relative, resolve } from 'node:path';
import { FILES, readCheckpoint } from '../run-folder.js';
import { MODEL_OWNER } from '../serve/server.js';
import { PIPELINE_STAGES, stageState } from './stages.js';

/**
 * What an OpenAI-compatible endpoint's `GET /v1/models` says of the judge model: OpenAI's model
 * card, with the fields some servers add.
 */
export interface JudgeCard {
  id: string;
  owned_by?: string;
  /** `reference-llm serve`: the SHA-256 of the served checkpoint's weights. */
  weights_sha256?: string;
  /** vLLM and servers like it: the path the model was loaded from. */
  root?: string;
}

/** A checkpoint the pipeline trained: its stage, its folder and its weights' SHA-256. */
export interface StageCheckpoint {
  stage: string;
  dir: string;
  weights: string;
}

/** The current checkpoint of every stage of the pipeline in `out` that holds one, finished or not. */
export function stageCheckpoints(out: string): StageCheckpoint[] {
  return PIPELINE_STAGES.map((s) => ({ stage: s.name, dir: join(out, s.name) }))
    .filter(({ dir }) => stageState(dir) !== 'empty')
    .map(({ stage, dir }) => ({
      stage,
      dir,
      weights: readCheckpoint(dir).state.files[FILES.model]!,
    }));
}

/**
 * The judge's card at `url` (`GET /v1/models`, the entry named `model`); only `{ id: model }`
 * where the endpoint lists no such card or has no such route (an endpoint need not have it).
 */
export async function judgeCard(url: string, model: string): Promise<JudgeCard> {
  try {
    const response = await fetch(`${url.replace(/\/+$/, '')}/v1/models`);
    if (response.ok) {
      const list = (await response.json()) as { data?: JudgeCard[] };
      const card = list.data?.find((c) => c.id === model);
      if (card) return card;
    }
  } catch {
    // An endpoint that cannot list its models tells nothing of who it is; its chat calls fail
    // with their own error.
  }
  return { id: model };
}

const within = (path: string, dir: string) =>
  !relative(resolve(dir), resolve(path)).startsWith('..');

/**
 * Why the judge may favour one stage's answers, or undefined for an independent judge. An LLM
 * judge rates answers like its own higher (self-enhancement bias: Zheng et al. 2023, "Judging
 * LLM-as-a-Judge with MT-Bench and Chatbot Arena"), so the report warns when the judge is
 * a model this pipeline trained — its card's `weights_sha256` is a stage's checkpoint's, or its
 * `root` lies in a stage's folder — or any model `reference-llm serve` serves (`owned_by`
 * `MODEL_OWNER`: a model of this project's own code and data), or one named as a stage is.
 */
export function selfEnhancementCaveat(
  card: JudgeCard,
  checkpoints: readonly StageCheckpoint[],
): string | undefined {
  const trained =
    checkpoints.find((c) => card.weights_sha256 === c.weights) ??
    checkpoints.find((c) => card.root !== undefined && within(card.root, c.dir));
  const named = checkpoints.find((c) => c.stage === card.id);
  const why = trained
    ? `the judge "${card.id}" is this pipeline's ${trained.stage} model (${trained.dir})`
    : card.owned_by === MODEL_OWNER
      ? `the judge "${card.id}" is served by reference-llm serve, a model of this project's own training code and data`
      : named
        ? `the judge "${card.id}" is named as this pipeline's ${named.stage} stage`
        : undefined;
  return (
    why &&
    `self-enhancement: ${why}; a judge tends to favour answers like its own, so its verdicts may favour the stages whose answers resemble its own; prefer an independent judge`
  );
}
