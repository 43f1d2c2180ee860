import { fileURLToPath } from 'node:url';
import { bundlePage, NO_WEBGPU_ARGS, withPage } from '@tessera/browser-testing';
import { describe, expect, it } from 'vitest';

const entry = fileURLToPath(new URL('./smoke-page.ts', import.meta.url));

async function smoke(isolated: boolean): Promise<Record<string, unknown>> {
  const script = await bundlePage({ entry });
  return withPage({ script, isolated, args: NO_WEBGPU_ARGS }, async (page) => {
    await page.waitForFunction(() => 'smoke' in globalThis);
    return page.evaluate(() =>
      (globalThis as unknown as { smoke(): Promise<Record<string, unknown>> }).smoke(),
    );
  });
}

// Headless Chromium without WebGPU (NO_WEBGPU_ARGS) offers no adapter: auto picks wasm or the CPU.
describe('the wasm backend in Chromium', () => {
  it('runs on worker threads in a cross-origin isolated page and agrees with the CPU reference', async () => {
    const result = await smoke(true);
    expect(result.isolated).toBe(true);
    expect(result.auto).toBe('wasm');
    expect(result.adapter).toBe('wasm-simd128 (2 threads)');
    for (const e of result.errors as number[]) expect(e).toBeLessThan(1e-4);
    // The product ran as the wasm kernel, not the CPU reference.
    expect(result.kernels).toEqual(['matmul:f32']);
  });

  it('falls back to the CPU reference without isolation, saying why', async () => {
    const result = await smoke(false);
    expect(result.isolated).toBe(false);
    expect(result.auto).toBe('cpu');
    expect((result.warnings as string[]).join('\n')).toMatch(
      /the wasm backend is unavailable \(no SharedArrayBuffer: a browser page needs cross-origin isolation/,
    );
  });
});
