import { describe, expect, it } from 'vitest';
import { chatPageHtml } from './page.js';

describe('chatPageHtml', () => {
  it('inlines the script so that no text in it can close the script element', () => {
    const html = chatPageHtml('console.log("</script><b>x</b>")');
    expect(html).toContain('<script>console.log("<\\/script><b>x</b>")</script>');
    expect(html.match(/<\/script>/g)).toHaveLength(1);
    // The escape keeps the text's case: "</SCRIPT" in a string stays "SCRIPT" when the page runs.
    expect(chatPageHtml('s = "</SCRIPT>"')).toContain('s = "<\\/SCRIPT>"');
    for (const id of ['model', 'temperature', 'max-tokens', 'transcript', 'prompt', 'status'])
      expect(html).toContain(`id="${id}"`);
  });

  it('says how to build the page when the bundle is missing', () => {
    expect(chatPageHtml(undefined)).toMatch(/not built: run <code>npm run build/);
  });
});
