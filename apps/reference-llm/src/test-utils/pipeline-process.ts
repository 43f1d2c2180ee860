/**
 * A pipeline run as a process of its own, for the tests that kill one mid-stage:
 *
 *     node --import tsx pipeline-process.ts OUT DATA STEPS STAGES
 *
 * runs `runPipeline` into OUT with the micro-chat preset and the micro recipe (a checkpoint every
 * 4 steps), STEPS steps per stage, the comma-separated STAGES, on the test device; its status
 * lines and progress go to standard error. Exits with 0 when the stages finished.
 */
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { runPipeline } from '../pipeline/run.js';
import { microChat, microRecipe } from './tuning.js';

const [out, data, steps, stages] = process.argv.slice(2);
const { gpu, cpu } = await testDevices();
const r = await runPipeline({
  out: out!,
  data,
  steps: Number(steps),
  stages: stages!.split(','),
  preset: microChat,
  recipe: microRecipe,
  device: gpu ?? cpu,
});
process.exit(r.stopped ? 1 : 0);
