import { describe, expect, it } from 'vitest';
import { trainPageHtml } from './train-page.js';

describe('trainPageHtml', () => {
  it('inlines both bundles so that no text in them can close their script elements', () => {
    const html = trainPageHtml({
      page: 'console.log("</script>page")',
      worker: 'postMessage("</SCRIPT>worker")',
    });
    expect(html).toContain(
      '<script id="worker-source" type="text/plain">postMessage("<\\/SCRIPT>worker")</script>',
    );
    expect(html).toContain('<script>console.log("<\\/script>page")</script>');
    expect(html.match(/<\/script>/gi)).toHaveLength(2);
    for (const id of [
      'steps',
      'prompt',
      'start',
      'stop',
      'resume',
      'saved',
      'status',
      'notice',
      'chart',
      'curve',
      'sample',
    ])
      expect(html).toContain(`id="${id}"`);
  });

  it('says how to build the page when the bundles are missing', () => {
    expect(trainPageHtml(undefined)).toMatch(/not built: run <code>npm run build/);
  });
});
