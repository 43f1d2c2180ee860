/**
 * The chat page's HTML: a form, a transcript and a status line, styled inline; the behaviour is
 * `web/chat.ts`, bundled at build time (`dist/web/chat.js`) and inlined here. Without the bundle
 * the page says how to build it.
 */
export function chatPageHtml(script: string | undefined): string {
  const body = script
    ? `<script>${script.replace(/<\/(script)/gi, '<\\/$1')}</script>`
    : '<p id="missing">The chat page is not built: run <code>npm run build -w @tessera/reference-llm</code>.</p>';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Tessera chat</title>
<style>
  body { font: 15px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 48rem; padding: 1rem; color: #1b1b1b; }
  header { display: flex; gap: 1rem; align-items: baseline; flex-wrap: wrap; }
  h1 { font-size: 1.2rem; margin: 0; }
  #transcript { border: 1px solid #ccc; border-radius: 6px; min-height: 16rem; padding: 0.5rem; margin: 0.75rem 0; }
  .message { white-space: pre-wrap; margin: 0.4rem 0; }
  .user::before { content: "You: "; font-weight: 600; }
  .assistant::before { content: "Model: "; font-weight: 600; color: #2456a6; }
  .error { color: #a42424; }
  form { display: flex; gap: 0.5rem; }
  #prompt { flex: 1; padding: 0.4rem; }
  fieldset { border: none; display: flex; gap: 1rem; padding: 0; margin: 0.5rem 0; flex-wrap: wrap; }
  input[type=number] { width: 5rem; }
  #status { color: #555; font-size: 0.9rem; }
</style>
</head>
<body>
<header><h1>Tessera chat</h1><label>model <select id="model"></select></label><span id="status"></span></header>
<fieldset>
  <label>temperature <input id="temperature" type="number" min="0" max="2" step="0.1" value="0.8"></label>
  <label>max tokens <input id="max-tokens" type="number" min="1" step="1" value="64"></label>
  <label>API key <input id="api-key" type="password" autocomplete="off" placeholder="(if the server has one)"></label>
</fieldset>
<div id="transcript" aria-live="polite"></div>
<form id="chat"><input id="prompt" autocomplete="off" placeholder="Say something" required><button id="send">Send</button></form>
${body}
</body>
</html>
`;
}
