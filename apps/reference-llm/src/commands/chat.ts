import { createInterface } from 'node:readline';
import { Command, Option } from '@commander-js/extra-typings';
import { backendOption, integer, numberIn, seedOption, withDevice } from '../command-options.js';
import { readCheckpoint } from '../run-folder.js';
import { readChatModel } from '../tuning/chat-model.js';
import { ChatSession } from '../tuning/chat-session.js';

export const chatCommand = () =>
  new Command('chat')
    .summary('an interactive chat with a tuned model in the terminal (streaming; /reset, /exit)')
    .description(
      'Reads a message per line and streams the model’s reply (ChatML, up to <|im_end|>), keeping the conversation; /reset starts a new one, /exit (or end of input) quits. Old turns are dropped when the conversation outgrows the model’s window.',
    )
    .option('--checkpoint <dir>', 'run folder of a chat model (sft, dpo or ppo)', 'runs/sft')
    .option('--system <text>', 'a system message at the start of every conversation')
    .addOption(
      new Option('--max-new-tokens <n>', 'tokens a reply may have')
        .argParser(integer(1))
        .default(64),
    )
    .addOption(
      new Option('--temperature <t>', 'softmax temperature; 0 is greedy')
        .argParser(numberIn({ atLeast: 0 }))
        .default(0.7),
    )
    .addOption(
      new Option('--top-k <k>', 'sample among the k most likely tokens').argParser(integer(1)),
    )
    .addOption(
      new Option(
        '--top-p <p>',
        'sample within the smallest set of probability p (nucleus)',
      ).argParser(numberIn({ above: 0, atMost: 1 })),
    )
    .addOption(seedOption('sampling'))
    .addOption(backendOption())
    .action(async (o) => {
      await withDevice(o.backend, async (device) => {
        const { model, chat } = readChatModel(readCheckpoint(o.checkpoint), device);
        model.eval();
        const session = new ChatSession(
          model,
          chat,
          {
            maxNewTokens: o.maxNewTokens,
            temperature: o.temperature,
            topK: o.topK,
            topP: o.topP,
            seed: o.seed,
          },
          o.system,
        );
        const tty = process.stdin.isTTY === true;
        const lines = createInterface({
          input: process.stdin,
          output: process.stdout,
          terminal: tty,
        });
        const ask = () => process.stdout.write('you> ');
        console.log(
          `chatting with ${o.checkpoint} (${model.numParameters()} parameters); /reset starts over, /exit quits`,
        );
        ask();
        for await (const raw of lines) {
          const line = raw.trim();
          if (line === '/exit') break;
          if (line === '/reset') {
            session.reset();
            console.log('(new conversation)');
          } else if (line !== '') {
            process.stdout.write('model> ');
            const { dropped } = await session.reply(line, (piece) => process.stdout.write(piece));
            process.stdout.write('\n');
            if (dropped > 0)
              console.log(
                `(${dropped} old messages dropped to fit the ${model.maxSequenceLength}-token window)`,
              );
          }
          ask();
        }
        process.stdout.write('\n');
        lines.close();
        model.dispose();
      });
    });
