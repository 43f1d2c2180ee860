/**
 * The chat page's script (bundled at build time into `dist/web/chat.js`, inlined by the server
 * into the page at `/`): lists the models, sends the conversation to `/v1/chat/completions` with
 * `stream: true`, and appends each streamed piece of the reply as it arrives, with the rate in
 * tokens per second. Plain DOM and fetch: no framework.
 */

interface Message {
  role: 'user' | 'assistant';
  content: string;
}

const element = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const modelSelect = element<HTMLSelectElement>('model');
const temperature = element<HTMLInputElement>('temperature');
const maxTokens = element<HTMLInputElement>('max-tokens');
const apiKey = element<HTMLInputElement>('api-key');
const transcript = element<HTMLDivElement>('transcript');
const form = element<HTMLFormElement>('chat');
const prompt = element<HTMLInputElement>('prompt');
const send = element<HTMLButtonElement>('send');
const status = element<HTMLSpanElement>('status');

const history: Message[] = [];

function headers(): Record<string, string> {
  const key = apiKey.value.trim();
  return { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) };
}

function bubble(role: Message['role'], text: string): HTMLDivElement {
  const div = document.createElement('div');
  div.className = `message ${role}`;
  div.textContent = text;
  transcript.append(div);
  return div;
}

async function errorOf(response: Response): Promise<string> {
  try {
    const body = (await response.json()) as { error?: { message?: string } };
    return body.error?.message ?? `HTTP ${response.status}`;
  } catch {
    return `HTTP ${response.status}`;
  }
}

async function loadModels(): Promise<void> {
  const response = await fetch('/v1/models', { headers: headers() });
  if (!response.ok) {
    status.textContent = `models: ${await errorOf(response)}`;
    return;
  }
  const { data } = (await response.json()) as { data: { id: string }[] };
  modelSelect.replaceChildren(...data.map((m) => new Option(m.id, m.id)));
  status.textContent = data.length ? `ready: ${data[0]!.id}` : 'no models';
}

/** Reads server-sent events from a response body, calling `onData` with each event's JSON. */
async function readEvents(body: ReadableStream<Uint8Array>, onData: (data: unknown) => void) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end = buffer.indexOf('\n\n');
    while (end >= 0) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      end = buffer.indexOf('\n\n');
      for (const line of event.split('\n')) {
        if (!line.startsWith('data: ')) continue;
        const data = line.slice(6);
        if (data === '[DONE]') return;
        onData(JSON.parse(data));
      }
    }
  }
}

interface Chunk {
  choices: { delta: { content?: string } }[];
  usage?: { completion_tokens: number } | null;
  error?: { message: string };
}

async function chat(text: string): Promise<void> {
  history.push({ role: 'user', content: text });
  bubble('user', text);
  const reply = bubble('assistant', '');
  const model = modelSelect.value;
  const started = performance.now();
  let firstToken: number | undefined;
  let pieces = 0;
  const response = await fetch('/v1/chat/completions', {
    method: 'POST',
    headers: headers(),
    body: JSON.stringify({
      model,
      messages: history,
      temperature: Number(temperature.value),
      max_tokens: Number(maxTokens.value),
      stream: true,
      stream_options: { include_usage: true },
    }),
  });
  if (!response.ok || !response.body) {
    reply.classList.add('error');
    reply.textContent = await errorOf(response);
    history.pop();
    return;
  }
  let tokens = 0;
  await readEvents(response.body, (data) => {
    const chunk = data as Chunk;
    if (chunk.error) {
      reply.classList.add('error');
      reply.textContent += ` [${chunk.error.message}]`;
      return;
    }
    const piece = chunk.choices[0]?.delta.content;
    if (piece) {
      firstToken ??= performance.now();
      reply.textContent += piece;
      pieces++;
    }
    if (chunk.usage) tokens = chunk.usage.completion_tokens;
    const seconds = (performance.now() - (firstToken ?? started)) / 1000;
    const count = tokens || pieces;
    status.textContent = `${model}: ${count} tokens, ${seconds > 0 ? (count / seconds).toFixed(1) : '…'} tok/s`;
  });
  history.push({ role: 'assistant', content: reply.textContent ?? '' });
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  const text = prompt.value.trim();
  if (!text) return;
  prompt.value = '';
  send.disabled = true;
  chat(text)
    .catch((e: Error) => bubble('assistant', e.message).classList.add('error'))
    .finally(() => {
      send.disabled = false;
      prompt.focus();
    });
});
apiKey.addEventListener('change', () => void loadModels());
void loadModels();
