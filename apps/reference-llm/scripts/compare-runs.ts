// Draws one per-step figure of several tuning runs on one chart (the runs' `tessera.json`
// metrics), e.g. the mean length of incorrect answers under GRPO and Dr. GRPO:
//   npx tsx scripts/compare-runs.ts lengthIncorrect OUT.svg runs/grpo runs/dr-grpo
import { writeAtomic } from '../src/atomic-write.js';
import { readCheckpoint } from '../src/run-folder.js';
import { curvesSvg } from '../src/tuning/curves.js';
import { perStep, type StageState } from '../src/tuning/stage.js';

const [metric, out, ...runs] = process.argv.slice(2);
if (!metric || !out || runs.length === 0)
  throw new Error('usage: compare-runs.ts METRIC OUT.svg RUN_DIR…');
const curves = runs.map((dir) => {
  const { state } = readCheckpoint<StageState>(dir);
  const loss = (state.settings as { loss?: string }).loss;
  return { name: loss ?? dir, points: perStep(state.metrics, metric), perStep: true };
});
writeAtomic(out, curvesSvg(`${metric} per step`, [{ title: metric, curves }]));
