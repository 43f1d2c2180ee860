import { Command, Option } from '@commander-js/extra-typings';
import { asChatModel } from '../agent/chat-model.js';
import { type AgentTool, runAgent } from '../agent/react.js';
import { calculatorTool, searchTool } from '../agent/tools.js';
import { describeFit } from '../agent/window.js';
import { writeAtomic } from '../atomic-write.js';
import {
  backendOption,
  checkpointOption,
  databaseUrlOption,
  integer,
  nonBlank,
  numberIn,
  retrievalMethodOption,
  seedOption,
  withDevice,
} from '../command-options.js';
import { loadCheckpoint } from '../load.js';
import { openIndexFolder } from '../rag/index-folder.js';
import { describeMethod } from '../rag/retrieval-methods.js';

export const agentCommand = () =>
  new Command('agent')
    .summary(
      'a ReAct agent: thought → tool call (search, calculator) → observation, until an answer',
    )
    .description(
      'Runs a ReAct loop with the tools search (a "rag index" folder) and calculator, in the chat format and tool-call JSON of the serving API; prints each step and saves the transcript as JSON.',
    )
    .argument('<question>', 'what the agent answers (not empty)', nonBlank)
    .addOption(checkpointOption())
    .addOption(retrievalMethodOption())
    .addOption(databaseUrlOption())
    .option(
      '--index <dir>',
      'a folder written by "rag index" for the search tool (none: calculator only)',
    )
    .addOption(
      new Option('--max-steps <n>', 'model turns before giving up')
        .argParser(integer(1))
        .default(6),
    )
    .addOption(
      new Option(
        '--max-new-tokens <n>',
        "tokens a turn may have, kept free in the model's window (a tool call with a short thought takes 60 to 90)",
      )
        .argParser(integer(1))
        .default(72),
    )
    .addOption(
      new Option('--temperature <t>', 'softmax temperature; 0 is greedy')
        .argParser(numberIn({ atLeast: 0 }))
        .default(0),
    )
    .option('--transcript <file>', 'where the JSON transcript goes', 'agent-transcript.json')
    .addOption(seedOption('sampling'))
    .addOption(backendOption())
    .action(async (question, o) => {
      await withDevice(o.backend, async (device) => {
        const tools: AgentTool[] = [calculatorTool];
        const index = o.index
          ? await openIndexFolder(o.index, device, {
              method: o.method,
              databaseUrl: o.databaseUrl,
            })
          : undefined;
        try {
          if (index) {
            tools.unshift(searchTool(index.retriever));
            console.log(`search: ${describeMethod(index.method, index.denseWeight)}`);
          }
          const { model, tokenizer } = loadCheckpoint(o.checkpoint, device);
          try {
            const chat = asChatModel(
              model,
              tokenizer,
              { maxNewTokens: o.maxNewTokens, temperature: o.temperature, seed: o.seed },
              o.checkpoint,
            );
            const run = await runAgent(chat, question, tools, {
              maxSteps: o.maxSteps,
              window: chat.window,
              onStep: (step, i) => {
                console.log(`step ${i + 1} thought: ${step.thought || '(none)'}`);
                const fitted = step.window && describeFit(step.window, i + 1);
                if (fitted) console.log(`  ${fitted}`);
                for (const c of step.calls) {
                  console.log(`  call ${c.name}(${JSON.stringify(c.arguments)})`);
                  console.log(`  observation: ${c.observation.replace(/\n/g, '\n    ')}`);
                }
              },
            });
            console.log(
              run.answer === null ? `no answer after ${o.maxSteps} steps` : `answer: ${run.answer}`,
            );
            writeAtomic(
              o.transcript,
              `${JSON.stringify({ checkpoint: o.checkpoint, ...run }, null, 2)}\n`,
            );
            console.log(`transcript: ${o.transcript}`);
          } finally {
            model.dispose();
          }
        } finally {
          // A pgvector index holds a connection pool: the process ends now, not at its idle timeout.
          await index?.close();
        }
      });
    });
