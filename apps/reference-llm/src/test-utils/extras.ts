import { EXTRA_SETTINGS, type ExtraSettings } from '../pipeline/extra-stages.js';
import { RETRIEVAL_TRAINING } from '../rag/train-retrieval.js';

/** The optional pipeline stages' settings at test size: a short sample, a narrow ViT, tiny retrieval encoders on 30 passages. */
export const microExtras: ExtraSettings = {
  ...EXTRA_SETTINGS,
  dllm: { prompt: 'ROMEO:', length: 6 },
  vit: { steps: 2, batchSize: 16, model: { dModel: 16, layers: 1, heads: 2, ffnHidden: 32 } },
  rag: {
    passages: 30,
    training: {
      ...RETRIEVAL_TRAINING,
      model: { ...RETRIEVAL_TRAINING.model, dModel: 16, layers: 1, heads: 2 },
      vocabSize: 300,
      steps: 2,
      rerankSteps: 1,
      batchSize: 4,
    },
  },
};
