/**
 * The headers the server sends with the page: cross-origin isolation (COOP/COEP), without which a
 * browser gives no SharedArrayBuffer, and so no wasm threads, to the worker; a browser without
 * WebGPU then trains on the CPU reference instead of the wasm backend. (A page opened from disk
 * cannot have them.)
 */
export const TRAIN_PAGE_HEADERS: Readonly<Record<string, string>> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

const inline = (script: string) => script.replace(/<\/(script)/gi, '<\\/$1');

/**
 * The training page's HTML: the controls, an SVG loss chart, a status line and the sample,
 * styled inline; the behaviour is `web/train.ts` and the training runs in `web/train-worker.ts`
 * (its bundle sits in a non-executed script element the page starts a Worker from, so the page
 * works as one file). Without the bundles the page says how to build them.
 */
export function trainPageHtml(scripts: { page: string; worker: string } | undefined): string {
  const body = scripts
    ? `<script id="worker-source" type="text/plain">${inline(scripts.worker)}</script>
<script>${inline(scripts.page)}</script>`
    : '<p id="missing">The training page is not built: run <code>npm run build -w @tessera/reference-llm</code>.</p>';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Tessera: train a tiny GPT in your browser</title>
<style>
  body { font: 15px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 48rem; padding: 1rem; color: #1b1b1b; }
  h1 { font-size: 1.2rem; margin: 0 0 0.5rem; }
  fieldset { border: none; display: flex; gap: 1rem; padding: 0; margin: 0.5rem 0; flex-wrap: wrap; align-items: baseline; }
  input[type=number] { width: 5rem; }
  #prompt { width: 10rem; }
  #chart { width: 100%; height: 14rem; border: 1px solid #ccc; border-radius: 6px; }
  #curve { fill: none; stroke: #2456a6; stroke-width: 0.6; }
  #status, #saved { color: #555; font-size: 0.9rem; }
  #notice { color: #a46a00; }
  #sample { white-space: pre-wrap; border: 1px solid #ccc; border-radius: 6px; padding: 0.5rem; min-height: 4rem; }
</style>
</head>
<body>
<h1>Train a tiny GPT in your browser</h1>
<p>The tiny preset (BPE tokenizer and a 2-layer GPT) trains on Shakespeare in a Web Worker on
your GPU through WebGPU, then writes a sample. Stop saves a checkpoint in the browser's storage;
Resume continues it, after a reload too.</p>
<fieldset>
  <label>Steps <input id="steps" type="number" min="1" value="200"></label>
  <label>Prompt <input id="prompt" value="ROMEO:"></label>
  <button id="start" type="button">Train</button>
  <button id="stop" type="button" disabled>Stop</button>
  <button id="resume" type="button" disabled>Resume</button>
  <span id="saved"></span>
</fieldset>
<fieldset>
  <legend>Sample (@tessera/sampler)</legend>
  <label>Temperature <input id="temperature" type="number" min="0" max="2" step="0.1" value="0.8"></label>
  <label>Top-k <input id="top-k" type="number" min="0" step="1" value="0" title="0: every token"></label>
  <label>Top-p <input id="top-p" type="number" min="0.01" max="1" step="0.01" value="1" title="1: every token"></label>
  <label>Tokens <input id="max-tokens" type="number" min="1" max="200" step="1" value="60"></label>
  <label>Seed <input id="seed" type="number" min="0" step="1" value="1"></label>
</fieldset>
<fieldset>
  <span id="status"></span>
</fieldset>
<p id="notice"></p>
<svg id="chart" viewBox="0 -2 100 54" preserveAspectRatio="none"><polyline id="curve" points=""></polyline></svg>
<p><small id="range"></small></p>
<h2>Sample</h2>
<pre id="sample"></pre>
${body}
</body>
</html>
`;
}
