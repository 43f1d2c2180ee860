import { describe, expect, it } from 'vitest';
import { buildCoreKernels, generatedSource } from '../../scripts/build-wasm.js';
import { CORE_KERNELS } from './core-kernels.js';

describe('the core wasm kernels', () => {
  it('are what the committed AssemblyScript sources build to (npm run build rewrites them)', async () => {
    const built = await buildCoreKernels();
    expect(Buffer.from(CORE_KERNELS.bytes()).equals(Buffer.from(built))).toBe(true);
    const { readFile } = await import('node:fs/promises');
    const committed = await readFile(
      new URL('./core-kernels.generated.ts', import.meta.url),
      'utf8',
    );
    expect(committed).toBe(generatedSource(built));
  });

  it('import only their memory and abort, shared, and export kernels only', () => {
    const module = new WebAssembly.Module(CORE_KERNELS.bytes());
    const imports = WebAssembly.Module.imports(module).map(
      (i) => `${i.module}.${i.name}:${i.kind}`,
    );
    expect(imports.filter((i) => i !== 'env.abort:function')).toEqual(['env.memory:memory']);
    const kinds = new Set(WebAssembly.Module.exports(module).map((e) => e.kind));
    expect([...kinds]).toEqual(['function']);
  });
});
