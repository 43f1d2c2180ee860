import { Command, Option } from '@commander-js/extra-typings';
import { integer, numberIn } from '../command-options.js';
import { ppo } from '../tuning/ppo.js';
import { runStageCommand, stageOptions } from '../tuning/stage-command.js';

const pct = (x: number | undefined) => `${(100 * (x ?? 0)).toFixed(1)}%`;

export const ppoCommand = () =>
  stageOptions(
    new Command('ppo')
      .summary(
        'RLHF with PPO: rollouts scored by the reward model, a KL penalty to the SFT model, GAE, clipped updates',
      )
      .description(
        'Each step samples replies to a batch of prompts from the policy (batched decoding), scores them with the reward model of --reward (minus a penalty for a reply that does not end), subtracts a per-token KL penalty to the frozen --from model (fixed β, or adaptive with --kl-target), estimates advantages by GAE with a value model initialised from the reward model, and runs PPO epochs over minibatches (clipped policy and value losses, optional entropy bonus). Records mean reward, KL, entropy, clip fraction, value loss and approximate KL every step, and held-out task accuracy at intervals. Writes a checkpoint (the policy, and value.safetensors), report.md, report.json, loss.svg and curves.svg; --resume continues.',
      )
      .option(
        '--from <dir>',
        'run folder of the chat model (sft): the policy to tune and the reference',
        'runs/sft',
      )
      .option('--reward <dir>', 'run folder of the reward model (reward)', 'runs/reward')
      .option(
        '--data <file>',
        'prompts: instruction examples, JSONL {"messages": [...]}, the last reply dropped (default: generated)',
      )
      .option(
        '--heldout <file>',
        'held-out questions with reference replies, same format (default: generated)',
      )
      .addOption(
        new Option('--batch-size <n>', "prompts per rollout (default: the recipe's)").argParser(
          integer(1),
        ),
      )
      .addOption(
        new Option(
          '--epochs <n>',
          "PPO passes over each rollout (default: the recipe's)",
        ).argParser(integer(1)),
      )
      .addOption(
        new Option('--minibatches <n>', "minibatches per pass (default: the recipe's)").argParser(
          integer(1),
        ),
      )
      .addOption(
        new Option('--kl-coef <b>', "KL penalty coefficient β (default: the recipe's)").argParser(
          numberIn({ atLeast: 0 }),
        ),
      )
      .addOption(
        new Option(
          '--kl-target <nats>',
          'adapt β toward this KL per reply (0: keep β fixed)',
        ).argParser(numberIn({ atLeast: 0 })),
      )
      .addOption(
        new Option('--kl-estimator <k>', 'per-token KL estimator (default: k1)').choices([
          'k1',
          'k3',
        ] as const),
      )
      .addOption(
        new Option('--entropy-coef <c>', 'entropy bonus weight (default 0)').argParser(
          numberIn({ atLeast: 0 }),
        ),
      )
      .addOption(
        new Option(
          '--max-new-tokens <n>',
          "tokens a reply may have (default: the recipe's)",
        ).argParser(integer(1)),
      )
      .addOption(
        new Option(
          '--temperature <t>',
          'sampling temperature of the rollouts (default 1)',
        ).argParser(numberIn({ above: 0 })),
      ),
    'runs/ppo',
  ).action(async (o) => {
    await runStageCommand(
      o.backend,
      (device, stop) =>
        ppo({
          from: o.from,
          reward: o.reward,
          out: o.out,
          data: o.data,
          heldout: o.heldout,
          resume: o.resume,
          force: o.force,
          maxSeconds: o.maxMinutes === undefined ? undefined : 60 * o.maxMinutes,
          saveEvery: o.saveEvery,
          steps: o.steps,
          lr: o.lr,
          seed: o.seed,
          batchSize: o.batchSize,
          epochs: o.epochs,
          minibatches: o.minibatches,
          klCoef: o.klCoef,
          klTarget: o.klTarget,
          klEstimator: o.klEstimator,
          entropyCoef: o.entropyCoef,
          maxNewTokens: o.maxNewTokens,
          temperature: o.temperature,
          device,
          stop,
        }),
      (r) => {
        const first = r.metrics.slice(0, Math.max(1, Math.floor(r.metrics.length / 10)));
        const last = r.metrics.slice(-first.length);
        const mean = (xs: Record<string, number>[], k: string) =>
          xs.reduce((s, m) => s + (m[k] ?? 0), 0) / xs.length;
        return `${r.loop.stopReason ? `stopped after ${r.steps} of ${r.totalSteps} steps; resume with --resume` : 'done'}: rollout reward ${mean(first, 'score').toFixed(3)} → ${mean(last, 'score').toFixed(3)}, KL ${mean(last, 'kl').toFixed(3)} nats; task accuracy ${pct(r.before.accuracy)} (SFT) → ${pct(r.after.accuracy)}, ${Math.round(r.loop.tokensPerSecond)} tokens/s`;
      },
    );
  });
