import { Command } from '@commander-js/extra-typings';
import {
  howItEnded,
  presetOptions,
  runTrainingCommand,
  trainingOptions,
  trainingRun,
} from '../command-options.js';
import { trainDiffusion } from '../dllm/train.js';

export const dllmTrainCommand = () =>
  trainingOptions(
    presetOptions(
      new Command('train')
        .summary('train a masked diffusion LM with the recipe and tokenizer of pretrain')
        .description(
          "Trains a masked diffusion LM (LLaDA, MDLM) on the training split (90%) with pretrain's recipe: the same BPE tokenizer plus the mask token <|mdm_mask|>, the preset's model without the causal mask, its Chinchilla budget, schedules and clipping. Each step masks every window with its own rate t ~ U(0, 1] and minimises the cross-entropy of the masked tokens weighted 1/t. Validation reports that loss and the bits per byte it bounds. Checkpoints, --resume, Ctrl-C/SIGTERM and the report work as in pretrain.",
        ),
    ),
    {
      out: 'runs/dllm-<preset>',
      steps: "the preset's Chinchilla budget, as pretrain",
      saveEvery: "the preset's evaluation interval",
    },
  ).action(async (o) => {
    const out = o.out ?? `runs/dllm-${o.preset ?? 'tiny'}`;
    await runTrainingCommand(
      o.backend,
      (device, stop) => trainDiffusion({ out, ...trainingRun(o), device, stop }),
      (r) => {
        const last = r.val.at(-1);
        return `${howItEnded(r)}: validation ${last?.loss.toFixed(4) ?? '–'} nats/token, ≤ ${last?.bpb?.toFixed(3) ?? '–'} bits/byte (ELBO bound), ${Math.round(r.tokensPerSecond)} tokens/s; checkpoint and report in ${out}`;
      },
      (r) => r.stopReason,
    );
  });
