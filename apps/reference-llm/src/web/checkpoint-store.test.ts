import { browserTestsEnabled, runInBrowser } from '@tessera/browser-testing';
import { describe, expect, it } from 'vitest';

const page = new URL('../test-utils/checkpoint-store-page.ts', import.meta.url).pathname;

describe.runIf(browserTestsEnabled())(
  'the training page checkpoint store in headless Chromium',
  () => {
    it('picks OPFS on a served page; both stores read back the last write whole, leaving no temporary entry', async () => {
      const { value } = await runInBrowser<Record<string, unknown>>(page);
      expect(value).toEqual({
        chosen: 'OPFS',
        opfs: { kind: 'OPFS', empty: true, first: [1, 2, 3], second: [4, 5] },
        indexedDb: { kind: 'IndexedDB', empty: true, first: [1, 2, 3], second: [4, 5] },
        files: ['checkpoint.safetensors'], // the temporary file was moved over it
        records: 2, // the pointer and the bytes it names; the first write's bytes are gone
      });
    });
  },
);
