import { Command, Option } from '@commander-js/extra-typings';
import { backendOption, integer, withDevice } from '../command-options.js';
import { DEFAULT_STAGES, runPipeline, STAGE_NAMES } from '../pipeline/run.js';
import { PRESETS } from '../presets.js';
import { SERVE_DEFAULTS, startServing, untilStopSignal } from '../serve/start.js';
import { SIGNAL_EXIT, stopOnSignals } from '../stop-signals.js';

export const pipelineCommand = () =>
  new Command('pipeline')
    .summary(
      'the whole chain in one command: pretrain → sft → reward → dpo → ppo → grpo, the same evaluation of every stage in one report, then serving the final model',
    )
    .description(
      "Runs each stage through the same function as its own command, from the previous stage's checkpoint, each into OUT/<stage>. A stage whose folder holds a finished run is skipped; one holding a checkpoint short of its last step resumes from it; so after Ctrl-C, SIGTERM or a crash the same command continues where the run stopped. One status line per stage. The eval stage measures every finished stage the same way (validation bits per byte; through the benchmark runner, 0-shot in ChatML, held-out instruction-task accuracy and format compliance and GRPO's held-out arithmetic; preference accuracy on the held-out pairs by mean token log-likelihood and, for the reward model, its own, a sample reply) and writes OUT/report.json, report.md and report.html (self-contained, with each stage's curves). With --judge-url an LLM judge compares each stage's replies with the SFT model's (both orders, rationale before verdict, position and length bias) and the report shows its verdicts, with a self-enhancement caveat when the judge is a model this pipeline trained or one `reference-llm serve` serves. The serve stage ends the pipeline by serving the last finished model (the code of `reference-llm serve`, on --port, until Ctrl-C); without it the run ends by printing the serve command for that model.",
    )
    .addOption(
      new Option('--preset <name>', 'pretraining preset; the tuning stages follow its recipe')
        .choices(Object.keys(PRESETS))
        .default('tiny'),
    )
    .option(
      '--stages <list>',
      `comma-separated stages to run, of ${STAGE_NAMES.join(',')} (add serve to end by serving the final model)`,
      DEFAULT_STAGES.join(','),
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
    .addOption(
      new Option('--port <n>', "the serve stage's port (0 picks a free one)")
        .argParser(integer(0))
        .default(SERVE_DEFAULTS.port),
    )
    .addOption(backendOption())
    .action(async (o) => {
      const signals = stopOnSignals();
      try {
        await withDevice(o.backend, async (device) => {
          const r = await runPipeline({
            out: o.out,
            preset: o.preset,
            stages: o.stages.split(',').map((s) => s.trim()),
            steps: o.steps,
            data: o.data,
            judge: o.judgeUrl === undefined ? undefined : { url: o.judgeUrl, model: o.judgeModel },
            device,
            stop: signals.stop,
          });
          if (r.stopped) {
            const reason = r.stopped.reason;
            if (reason === 'SIGINT' || reason === 'SIGTERM') process.exitCode = SIGNAL_EXIT[reason];
            return;
          }
          console.log(
            r.rows
              ? `pipeline done: report in ${o.out}/report.html (also report.md, report.json)`
              : `pipeline done: stages in ${o.out}`,
          );
          if (!r.final) return;
          if (!r.serve) {
            console.log(`serve the final model: reference-llm serve --model ${r.final}`);
            return;
          }
          // From here Ctrl-C stops the server, not a training step.
          signals.dispose();
          const server = await startServing(
            { ...SERVE_DEFAULTS, model: [r.final], port: o.port },
            device,
          );
          console.log(`serve: the final model, ${r.final} (Ctrl-C stops)`);
          for (const line of server.lines) console.log(line);
          await untilStopSignal();
          await server.close();
        });
      } finally {
        signals.dispose();
      }
    });
