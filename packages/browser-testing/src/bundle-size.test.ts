import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bundleSize } from './bundle-size.js';

const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url).pathname;

describe('bundleSize', () => {
  it('measures the minified bundle, and gzip makes it smaller', async () => {
    const source = readFileSync(fixture('adapter-page.ts'), 'utf8');
    const size = await bundleSize(fixture('adapter-page.ts'));
    expect(size.minified).toBeGreaterThan(500); // the shader and the calls stay
    expect(size.minified).toBeLessThan(source.length); // comments, types and spaces go
    expect(size.gzip).toBeLessThan(size.minified);
  });

  it('counts what the module imports, unless it is external', async () => {
    const alone = await bundleSize(fixture('adapter-page.ts'));
    const importing = await bundleSize(fixture('imports-adapter-page.ts'));
    expect(importing.minified).toBeGreaterThanOrEqual(alone.minified);
    const without = await bundleSize(fixture('imports-adapter-page.ts'), ['./adapter-page.js']);
    expect(without.minified).toBeLessThan(alone.minified / 4);
  });

  it('names the module when it cannot be bundled', async () => {
    await expect(bundleSize(fixture('missing.ts'))).rejects.toThrow(/missing\.ts/);
  });
});
