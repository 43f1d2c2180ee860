import { agentCommand } from './agent.js';
import { chatCommand } from './chat.js';
import { dataCommand } from './data.js';
import { dllmCommand } from './dllm.js';
import { dpoCommand } from './dpo.js';
import { evalCommand } from './eval.js';
import { generateCommand } from './generate.js';
import { grpoCommand } from './grpo.js';
import { pipelineCommand } from './pipeline.js';
import { ppoCommand } from './ppo.js';
import { pretrainCommand } from './pretrain.js';
import { profileCommand } from './profile.js';
import { ragCommand } from './rag.js';
import { rewardCommand } from './reward.js';
import { scalingCommand } from './scaling.js';
import { serveCommand } from './serve.js';
import { sftCommand } from './sft.js';
import { tasksCommand } from './tasks.js';
import { vitCommand } from './vit.js';
import { workerCommand } from './worker.js';

/** Every command, in the order `--help` and the README list them: adding a command is one file and one line here. */
export const COMMANDS = [
  pretrainCommand,
  generateCommand,
  serveCommand,
  evalCommand,
  workerCommand,
  tasksCommand,
  dataCommand,
  sftCommand,
  rewardCommand,
  dpoCommand,
  ppoCommand,
  grpoCommand,
  pipelineCommand,
  chatCommand,
  ragCommand,
  agentCommand,
  profileCommand,
  dllmCommand,
  scalingCommand,
  vitCommand,
];
