import { Command, Option } from '@commander-js/extra-typings';
import { formatProfile } from '@tessera/tensor-webgpu';
import { backendOption, integer, withDevice } from '../command-options.js';
import { OPTIMIZERS } from '../optimizer.js';
import { PRESETS } from '../presets.js';
import { formatTimeByOp, TrainingProbe } from '../probe.js';
import { Progress } from '../progress.js';

export const profileCommand = () =>
  new Command('profile')
    .summary(
      "trains the preset's model on random tokens: tokens/s, model FLOP/s, time to the first step, and three steps' device time kernel by kernel",
    )
    .addOption(
      new Option('--preset <name>', 'model and recipe')
        .choices(Object.keys(PRESETS))
        .default('tiny'),
    )
    .addOption(
      new Option('--optimizer <name>', 'optimizer').choices(OPTIMIZERS).default('adamw' as const),
    )
    .addOption(
      new Option('--steps <n>', 'steps timed for the throughput').argParser(integer(1)).default(10),
    )
    .addOption(backendOption())
    .action(async (o) => {
      await withDevice(o.backend, async (device) => {
        const preset = PRESETS[o.preset]!;
        const probe = new TrainingProbe(preset, device, o.optimizer);
        console.log(
          `${preset.name}: ${probe.model.numParameters()} parameters, ${preset.batchSize}×${preset.seqLen} tokens a step, ${o.optimizer}, on ${device.info.adapter}`,
        );
        const warmup = 3;
        const progress = new Progress('profile', warmup + o.steps);
        await probe.warmup(1, () => progress.update(probe.stepsTaken));
        // performance.now() counts from the process's start: device, model, every pipeline's
        // compilation (cold unless the driver cached it) and the step itself.
        const firstStep = performance.now() / 1000;
        await probe.warmup(warmup - 1, () => progress.update(probe.stepsTaken));
        const tokensPerSecond = await probe.throughput(o.steps, () =>
          progress.update(probe.stepsTaken),
        );
        const flops = (probe.flopsPerStep * tokensPerSecond) / probe.tokensPerStep;
        console.log(
          `${Math.round(tokensPerSecond)} tokens/s over ${o.steps} steps, ${(flops / 1e9).toFixed(2)} model GFLOP/s`,
        );
        const pipelines = device.memory().pipelinesCompiled;
        console.log(
          `time to first step ${firstStep.toFixed(1)} s from the process's start (${pipelines} pipelines compiled; a driver's shader cache, such as Mesa's, makes later starts warm)`,
        );
        const profile = await probe.profile();
        console.log(`\n3 steps, by kernel:\n\n${formatProfile(profile, 15)}`);
        console.log(`\n${formatTimeByOp(profile)}`);
      });
    });
