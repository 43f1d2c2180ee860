import { Command, InvalidArgumentError, Option } from '@commander-js/extra-typings';
import {
  howItEnded,
  integer,
  numberIn,
  presetOptions,
  runTrainingCommand,
  trainingOptions,
  trainingRun,
} from '../command-options.js';
import { parseMoE } from '../presets.js';
import { pretrain } from '../pretrain.js';

export const pretrainCommand = () =>
  trainingOptions(
    presetOptions(
      new Command('pretrain')
        .summary('train a tokenizer and a GPT on a text, with checkpoints and a report')
        .description(
          "Trains a byte-level BPE tokenizer on the training split (90%), then the model for the preset's Chinchilla budget (warmup + cosine decay, gradient clipping), evaluating validation loss and bits per byte at intervals. Checkpoints are saved atomically into the run folder; Ctrl-C or SIGTERM saves and exits (status 130 or 143); --resume continues on the same trajectory. Writes report.md, report.json and loss.svg at the end.",
        ),
    )
      .addOption(
        new Option(
          '--moe <EXPERTSxK>',
          "train the preset's mixture-of-experts variant: EXPERTS SwiGLU experts, K per token, of the same active size per token as the dense model (e.g. 8x2)",
        ).argParser((v) => {
          try {
            return parseMoE(v);
          } catch {
            throw new InvalidArgumentError('Expected EXPERTSxK with 1 <= K <= EXPERTS, e.g. 8x2.');
          }
        }),
      )
      .addOption(
        new Option(
          '--shared-experts <n>',
          'always-on experts beside the routed ones (with --moe; default 0)',
        ).argParser(integer(0)),
      )
      .addOption(
        new Option(
          '--balance <how>',
          'expert load balancing (with --moe): aux, the load-balancing loss, or aux-free, the selection bias of DeepSeek-V3 (default: aux)',
        ).choices(['aux', 'aux-free'] as const),
      )
      .addOption(
        new Option(
          '--capacity-factor <f>',
          "expert capacity (with --moe): each expert keeps at most ⌈f·N·K/EXPERTS⌉ of a batch's N·K token assignments and drops the rest (Switch Transformer; default: dropless)",
        ).argParser(numberIn({ above: 0 })),
      ),
    {
      out: 'runs/<preset>',
      steps: "the preset's Chinchilla budget",
      saveEvery: 'the validation interval, --eval-every',
    },
  ).action(async (o) => {
    if (
      !o.moe &&
      (o.sharedExperts !== undefined || o.balance !== undefined || o.capacityFactor !== undefined)
    )
      throw new Error('pretrain: --shared-experts, --balance and --capacity-factor need --moe');
    const moe = o.moe && {
      ...o.moe,
      sharedExperts: o.sharedExperts,
      balance: o.balance,
      capacityFactor: o.capacityFactor,
    };
    const out =
      o.out ?? `runs/${o.preset ?? 'tiny'}${o.moe ? `-moe${o.moe.experts}x${o.moe.topK}` : ''}`;
    await runTrainingCommand(
      o.backend,
      (device, stop) => pretrain({ out, ...trainingRun(o), moe, device, stop }),
      (r) => {
        const last = r.val.at(-1);
        return `${howItEnded(r)}: validation ${last?.bpb?.toFixed(3) ?? '–'} bits/byte (unigram ${r.unigramBpb.toFixed(3)}), ${Math.round(r.tokensPerSecond)} tokens/s; checkpoint and report in ${out}`;
      },
      (r) => r.stopReason,
    );
  });
