import { Command, Option } from '@commander-js/extra-typings';
import { backendOption, integer, withDevice } from '../command-options.js';
import { runPipeline, STAGE_NAMES } from '../pipeline/run.js';
import { PRESETS } from '../presets.js';
import { SIGNAL_EXIT, stopOnSignals } from '../stop-signals.js';

export const pipelineCommand = () =>
  new Command('pipeline')
    .summary(
      'the whole chain in one command: pretrain → sft → reward → dpo → ppo, then the same evaluation of every stage in one report',
    )
    .description(
      "Runs each stage through the same function as its own command, from the previous stage's checkpoint, each into OUT/<stage>. A stage whose folder holds a finished run is skipped; one holding a checkpoint short of its last step resumes from it; so after Ctrl-C, SIGTERM or a crash the same command continues where the run stopped. One status line per stage. The eval stage measures every finished stage the same way (validation bits per byte, held-out task accuracy and format compliance, the reward model's preference accuracy, a sample reply) and writes OUT/report.json, report.md and report.html (self-contained, with each stage's curves). With --judge-url an LLM judge compares each stage's replies with the SFT model's (both orders, rationale before verdict, position and length bias) and the report shows its verdicts. It ends by printing the serve command for the last finished model. Not yet in the pipeline: grpo, serving itself.",
    )
    .addOption(
      new Option('--preset <name>', 'pretraining preset; the tuning stages follow its recipe')
        .choices(Object.keys(PRESETS))
        .default('tiny'),
    )
    .option(
      '--stages <list>',
      `comma-separated stages to run, of ${STAGE_NAMES.join(',')}`,
      STAGE_NAMES.join(','),
    )
    .option(
      '--out <dir>',
      'pipeline folder (a run folder per stage, and the report)',
      'runs/pipeline',
    )
    .addOption(
      new Option(
        '--steps <n>',
        "steps of every training stage (default: each stage's recipe; a short trial run)",
      ).argParser(integer(1)),
    )
    .option('--data <file>', 'UTF-8 text to pretrain on (default: the bundled tinyshakespeare)')
    .option(
      '--judge-url <url>',
      "an OpenAI-compatible endpoint (e.g. reference-llm serve's) whose model judges every stage's replies against the SFT model's, both orders",
    )
    .option('--judge-model <name>', 'the judge model at --judge-url (default: the first it lists)')
    .addOption(backendOption())
    .action(async (o) => {
      const signals = stopOnSignals();
      try {
        const r = await withDevice(o.backend, (device) =>
          runPipeline({
            out: o.out,
            preset: o.preset,
            stages: o.stages.split(',').map((s) => s.trim()),
            steps: o.steps,
            data: o.data,
            judge: o.judgeUrl === undefined ? undefined : { url: o.judgeUrl, model: o.judgeModel },
            device,
            stop: signals.stop,
          }),
        );
        if (r.stopped) {
          const reason = r.stopped.reason;
          if (reason === 'SIGINT' || reason === 'SIGTERM') process.exitCode = SIGNAL_EXIT[reason];
        } else {
          console.log(
            r.rows
              ? `pipeline done: report in ${o.out}/report.html (also report.md, report.json)`
              : `pipeline done: stages in ${o.out}`,
          );
          if (r.final) console.log(`serve the final model: reference-llm serve --model ${r.final}`);
        }
      } finally {
        signals.dispose();
      }
    });
