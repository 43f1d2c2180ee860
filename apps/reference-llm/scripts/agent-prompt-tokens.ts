/**
 * The agent's prompt in each preset's tokens, for the README: each preset's tokenizer trained as
 * `pretrain` trains it (byte-level BPE of the preset's size on the bundled text's training
 * split), the chat format of a pretrained model, and `agent`'s default --max-new-tokens. Prints
 * the system message's and a question's tokens against the window, a tool call's tokens, the
 * same prompt with the tools' JSON Schemas (`toolsPrompt`, the server's) for comparison, and
 * what the model reads after a calculator call and after a search call that returned three
 * passages (`fitConversation`).
 *
 *   npx tsx scripts/agent-prompt-tokens.ts
 */
import type { Retriever } from '@tessera/rag';
import type { ChatMessage } from '@tessera/tokenizer';
import { agentPrompt, REACT_INSTRUCTIONS } from '../src/agent/react.js';
import { calculatorTool, searchTool } from '../src/agent/tools.js';
import { describeFit, fitConversation } from '../src/agent/window.js';
import { DEFAULT_DATA, readText, splitText } from '../src/data.js';
import { PRESETS } from '../src/presets.js';
import { trainTokenizer } from '../src/pretrain.js';
import { chatFormatOf } from '../src/serve/chat-format.js';
import { formatToolCall, toolsPrompt } from '../src/serve/tools.js';

const MAX_NEW_TOKENS = 72; // agent's default --max-new-tokens
const QUESTION = 'What is 12 * 7 + 16?';
const CALCULATE = `I need the product.\n${formatToolCall({ name: 'calculator', arguments: { expression: '12 * 7' } })}`;
const SEARCH = formatToolCall({ name: 'search', arguments: { query: 'who says what light' } });

const text = readText(DEFAULT_DATA);
const { train } = splitText(text);
// Three passages as the search tool lists them: speeches of the play, 200 characters each.
const passages = [0, 1, 2]
  .map(
    (i) => `[${i + 1}] play.txt:${i * 200}-${i * 200 + 200} ${text.slice(i * 200, i * 200 + 200)}`,
  )
  .join('\n');
const tools = [searchTool({} as Retriever).definition, calculatorTool.definition];
const system = (content: string): ChatMessage => ({ role: 'system', content });
const head = [system(agentPrompt(tools)), { role: 'user', content: QUESTION } as ChatMessage];

for (const preset of Object.values(PRESETS)) {
  const format = chatFormatOf(trainTokenizer(train, preset));
  const tokens = (messages: readonly ChatMessage[]) => format.encode(messages).length;
  const size = preset.model.maxSeqLen;
  const budget = size - MAX_NEW_TOKENS;
  const prompt = tokens(head);
  const instructions = tokens(head.slice(0, 1));
  const schema = tokens([system(`${REACT_INSTRUCTIONS}\n${toolsPrompt(tools)}`), head[1]!]);
  const call = tokens([{ role: 'assistant', content: CALCULATE }]) - tokens([]);
  console.log(
    `${preset.name}: window ${size}, ${budget} beside --max-new-tokens ${MAX_NEW_TOKENS}; prompt ${prompt} (system ${instructions}, question ${prompt - instructions}; with the JSON Schemas ${schema}); a calculator call with a thought ${call}`,
  );
  if (prompt > budget) {
    console.log('  the prompt does not fit: refused');
    continue;
  }
  const window = { size, replyTokens: MAX_NEW_TOKENS, tokens };
  for (const [name, reply, observation] of [
    ['calculator', CALCULATE, '84'],
    ['search', SEARCH, passages],
  ] as const) {
    try {
      const { fit } = fitConversation(head, [{ reply, observations: [observation] }], window);
      console.log(
        `  after a ${name} call: ${describeFit(fit, 2) || `all of it (${fit.tokens} tokens)`}`,
      );
    } catch (e) {
      console.log(`  after a ${name} call: ${(e as Error).message}`);
    }
  }
}
