#!/usr/bin/env node
import { join } from 'node:path';
/**
 * reference-llm: pretrain a small GPT on Shakespeare with the Tessera packages, sample from it,
 * evaluate it.  reference-llm <pretrain|generate|eval|scaling> [options]  (--help for more)
 */
import { parseArgs } from 'node:util';
import { arithmeticTask, knowledgeQuizTask, reportToMarkdown, runBenchmark } from '@tessera/eval';
import { createDevice, formatProfile } from '@tessera/tensor-webgpu';
import { FILES, writeAtomic } from './checkpoint.js';
import { evaluateCheckpoint } from './evaluate.js';
import { asLanguageModel } from './language-model.js';
import { complete, loadCheckpoint } from './load.js';
import { PRESETS, scalingTable } from './presets.js';
import { formatTimeByOp, TrainingProbe } from './probe.js';
import { pretrain } from './train.js';

const HELP = `reference-llm <command> [options]

  pretrain   train a tokenizer and a GPT on the text (default: the bundled tinyshakespeare)
             --preset tiny|small|base (tiny)  --optimizer adamw|muon (adamw)  --out DIR (runs/<preset>)
             --resume  --steps N  --max-minutes M  --data FILE  --backend auto|webgpu|cpu
  generate   sample from a checkpoint, streaming to the terminal
             --checkpoint DIR  --prompt TEXT  --max-new-tokens N (200)  --temperature T (0.8)
             --top-k K  --top-p P  --min-p P  --seed S
  eval       validation perplexity and bits per byte of a checkpoint   --checkpoint DIR  --data FILE
  tasks      the built-in benchmark tasks (arithmetic, knowledge quiz) on a checkpoint; writes
             DIR/tasks.json   --checkpoint DIR  --fewshot N (0)  --limit N  --seed S
  profile    training speed of a preset's model on random tokens: tokens/s, model FLOP/s, and
             where one step's device time goes, kernel by kernel
             --preset tiny|small|base (tiny)  --optimizer adamw|muon  --steps N (10)  --backend
  scaling    the presets: parameters, Chinchilla tokens, 6·N·D FLOPs`;

async function main(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      preset: { type: 'string', default: 'tiny' },
      optimizer: { type: 'string', default: 'adamw' },
      out: { type: 'string' },
      resume: { type: 'boolean', default: false },
      steps: { type: 'string' },
      'max-minutes': { type: 'string' },
      data: { type: 'string' },
      backend: { type: 'string', default: 'auto' },
      checkpoint: { type: 'string' },
      prompt: { type: 'string', default: '\n' },
      'max-new-tokens': { type: 'string', default: '200' },
      temperature: { type: 'string', default: '0.8' },
      'top-k': { type: 'string' },
      'top-p': { type: 'string' },
      'min-p': { type: 'string' },
      seed: { type: 'string', default: '0' },
      fewshot: { type: 'string', default: '0' },
      limit: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  const command = positionals[0];
  if (values.help || !command) {
    console.log(HELP);
    return;
  }
  const num = (name: string, v: string | undefined) => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n))
      throw new Error(`--${name}: expected a number, got ${JSON.stringify(v)}`);
    return n;
  };
  if (command === 'scaling') {
    console.log(scalingTable());
    return;
  }
  const backend = values.backend as 'auto' | 'webgpu' | 'cpu';
  const device = await createDevice({ backend });
  const checkPresetAndOptimizer = () => {
    if (!(values.preset in PRESETS))
      throw new Error(
        `--preset: expected one of ${Object.keys(PRESETS).join(', ')}, got ${JSON.stringify(values.preset)}`,
      );
    if (values.optimizer !== 'adamw' && values.optimizer !== 'muon')
      throw new Error(
        `--optimizer: expected adamw or muon, got ${JSON.stringify(values.optimizer)}`,
      );
    return { preset: PRESETS[values.preset]!, optimizer: values.optimizer as 'adamw' | 'muon' };
  };
  if (command === 'profile') {
    const { preset, optimizer } = checkPresetAndOptimizer();
    const steps = num('steps', values.steps) ?? 10;
    const probe = new TrainingProbe(preset, device, optimizer);
    console.log(
      `${preset.name}: ${probe.model.numParameters()} parameters, ${preset.batchSize}×${preset.seqLen} tokens a step, ${optimizer}, on ${device.info.adapter}`,
    );
    await probe.warmup();
    const tokensPerSecond = await probe.throughput(steps);
    const flops = (probe.flopsPerStep * tokensPerSecond) / probe.tokensPerStep;
    console.log(
      `${Math.round(tokensPerSecond)} tokens/s over ${steps} steps, ${(flops / 1e9).toFixed(2)} model GFLOP/s`,
    );
    const profile = await probe.profile();
    console.log(`\n3 steps, by kernel:\n\n${formatProfile(profile, 15)}`);
    console.log(`\n${formatTimeByOp(profile)}`);
    return;
  }
  if (command === 'pretrain') {
    const { optimizer } = checkPresetAndOptimizer();
    const control = { stop: false };
    process.on('SIGINT', () => {
      if (control.stop) process.exit(130);
      control.stop = true;
      console.log('\nstopping after this step: saving a checkpoint (Ctrl-C again to quit at once)');
    });
    const out = values.out ?? `runs/${values.preset}`;
    const maxMinutes = num('max-minutes', values['max-minutes']);
    if (maxMinutes !== undefined && !(maxMinutes > 0))
      throw new Error(`--max-minutes: expected a positive number, got ${maxMinutes}`);
    const r = await pretrain({
      preset: values.preset,
      optimizer,
      out,
      resume: values.resume,
      steps: num('steps', values.steps),
      maxSeconds: maxMinutes === undefined ? undefined : 60 * maxMinutes,
      data: values.data,
      device,
      control,
    });
    if (r.stopReason !== 'interrupted') {
      const last = r.val.at(-1);
      console.log(
        `\n${r.stopReason === 'time' ? `time limit after ${r.steps} of ${r.totalSteps} steps` : 'done'}: validation ${last?.bpb.toFixed(3)} bits/byte (unigram ${r.unigramBpb.toFixed(3)}), ${Math.round(r.tokensPerSecond)} tokens/s; report in ${out}/report.md, curve in ${out}/loss.svg`,
      );
    }
  } else if (command === 'generate') {
    const dir = values.checkpoint ?? 'runs/tiny';
    process.stdout.write(values.prompt);
    await complete(dir, values.prompt, {
      device,
      maxNewTokens: num('max-new-tokens', values['max-new-tokens']),
      temperature: num('temperature', values.temperature),
      topK: num('top-k', values['top-k']),
      topP: num('top-p', values['top-p']),
      minP: num('min-p', values['min-p']),
      seed: num('seed', values.seed),
      onText: (piece) => process.stdout.write(piece),
    });
    process.stdout.write('\n');
  } else if (command === 'eval') {
    const r = await evaluateCheckpoint(values.checkpoint ?? 'runs/tiny', {
      device,
      data: values.data,
    });
    console.log(
      `validation: ${r.tokens} tokens, ${r.meanNll.toFixed(4)} nats/token, perplexity ${r.perplexity.toFixed(2)}, ${r.bitsPerByte.toFixed(3)} bits/byte`,
    );
  } else if (command === 'tasks') {
    const dir = values.checkpoint ?? 'runs/tiny';
    const { model, tokenizer } = loadCheckpoint(dir, device);
    const report = await runBenchmark(
      asLanguageModel(model, tokenizer, dir),
      [arithmeticTask(50, 0), knowledgeQuizTask()],
      {
        numFewshot: num('fewshot', values.fewshot),
        limit: num('limit', values.limit),
        seed: num('seed', values.seed),
        onProgress: (task, done, total) =>
          process.stderr.write(`\r${task}: ${done}/${total}${done === total ? '\n' : ''}`),
      },
    );
    writeAtomic(join(dir, FILES.tasks), `${JSON.stringify(report, null, 2)}\n`);
    console.log(reportToMarkdown(report));
  } else {
    throw new Error(`unknown command ${JSON.stringify(command)}\n\n${HELP}`);
  }
  device.destroy();
}

main(process.argv.slice(2)).catch((e: Error) => {
  console.error(`reference-llm: ${e.message}`);
  process.exit(1);
});
