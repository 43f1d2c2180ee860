import { Command, Option } from '@commander-js/extra-typings';
import { integer, numberIn } from '../command-options.js';
import { LORA_TARGETS } from '../tuning/lora.js';
import { sft } from '../tuning/sft.js';
import { runStageCommand, stageOptions } from '../tuning/stage-command.js';

const pct = (x: number | undefined) => `${(100 * (x ?? 0)).toFixed(1)}%`;

export const sftCommand = () =>
  stageOptions(
    new Command('sft')
      .summary(
        'supervised fine-tuning into a chat model (ChatML), full or LoRA, measured on held-out tasks',
      )
      .description(
        'Adds the ChatML tokens to the model of --from (new embedding rows at the mean) and trains it on instruction data — the generated verifiable tasks, or --data FILE.jsonl ({"messages": [...]}) — with the loss on the assistant\'s tokens only (--all-tokens: every token), every weight or LoRA adapters (--lora-rank). Held-out loss, task accuracy and format compliance are measured before training, at intervals and at the end. Writes a checkpoint (merged weights; with LoRA also adapter_model.safetensors and adapter_config.json in PEFT\'s layout), report.md, report.json, loss.svg and curves.svg; --resume continues.',
      )
      .option('--from <dir>', 'run folder of the model to tune', 'runs/tiny')
      .option(
        '--data <file>',
        'instruction examples, JSONL {"messages": [...]} (default: generated)',
      )
      .option('--heldout <file>', 'held-out examples in the same format (default: generated)')
      .addOption(
        new Option(
          '--arithmetic <n>',
          "add N worked multi-step arithmetic problems (grpo's kind, none of grpo's held-out ones of the same --seed) to the generated examples (default 0)",
        ).argParser(integer(0)),
      )
      .addOption(
        new Option('--batch-size <n>', "examples per step (default: the recipe's)").argParser(
          integer(1),
        ),
      )
      .addOption(
        new Option(
          '--lora-rank <r>',
          'train LoRA adapters of rank r instead of every weight',
        ).argParser(integer(1)),
      )
      .addOption(
        new Option('--lora-alpha <a>', 'LoRA scale numerator (default: 2·rank)').argParser(
          numberIn({ above: 0 }),
        ),
      )
      .addOption(
        new Option('--lora-dropout <p>', 'dropout on the adapters’ input (default 0)').argParser(
          numberIn({ atLeast: 0, atMost: 0.9 }),
        ),
      )
      .option(
        '--lora-targets <names>',
        `comma-separated layers LoRA adapts (default: ${LORA_TARGETS.join(',')})`,
      )
      .option('--all-tokens', 'learn every token, prompts too (default: the replies only)')
      .option(
        '--pack',
        "pack each step's examples into rows of the model's window (positions restart and attention stays inside each example) instead of one padded example per row",
      ),
    'runs/sft',
  ).action(async (o) => {
    await runStageCommand(
      o.backend,
      (device, stop) =>
        sft({
          from: o.from,
          out: o.out,
          data: o.data,
          heldout: o.heldout,
          arithmetic: o.arithmetic,
          resume: o.resume,
          force: o.force,
          maxSeconds: o.maxMinutes === undefined ? undefined : 60 * o.maxMinutes,
          saveEvery: o.saveEvery,
          steps: o.steps,
          lr: o.lr,
          seed: o.seed,
          batchSize: o.batchSize,
          loraRank: o.loraRank,
          loraAlpha: o.loraAlpha,
          loraDropout: o.loraDropout,
          loraTargets: o.loraTargets?.split(',').map((s) => s.trim()),
          allTokens: o.allTokens,
          pack: o.pack,
          device,
          stop,
        }),
      (r) =>
        `${r.loop.stopReason ? `stopped after ${r.steps} of ${r.totalSteps} steps; resume with --resume` : 'done'}: held-out task accuracy ${pct(r.before.accuracy)} → ${pct(r.after.accuracy)}, format ${pct(r.before.format)} → ${pct(r.after.format)}, ${Math.round(r.loop.tokensPerSecond)} tokens/s`,
    );
  });
