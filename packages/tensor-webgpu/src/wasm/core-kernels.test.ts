import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileKernels, generatedSource } from '../../../../scripts/build-wasm.js';
import { CORE_KERNELS } from './core-kernels.js';

const DATA_SECTION = 11;

/** The ids of a wasm binary's sections, in order (each: an id byte, a LEB128 size, the body). */
function sectionIds(bytes: Uint8Array): number[] {
  const ids: number[] = [];
  let at = 8;
  while (at < bytes.length) {
    ids.push(bytes[at++]!);
    let size = 0;
    for (let shift = 0; ; shift += 7) {
      const b = bytes[at++]!;
      size |= (b & 0x7f) << shift;
      if (b < 0x80) break;
    }
    at += size;
  }
  return ids;
}

/** The AssemblyScript compiler (Binaryen, in wasm) takes seconds alone and minutes on a busy CI machine. */
const COMPILE_TIMEOUT = 300_000;

describe('the core wasm kernels', () => {
  it(
    'are what the committed AssemblyScript sources build to (npm run build rewrites them)',
    async () => {
      const built = await compileKernels(
        new URL('../../assembly/index.ts', import.meta.url).pathname,
      );
      expect(Buffer.from(CORE_KERNELS.bytes()).equals(Buffer.from(built))).toBe(true);
      const committed = readFileSync(
        new URL('./core-kernels.generated.ts', import.meta.url),
        'utf8',
      );
      expect(committed).toBe(generatedSource(built, 'assembly/index.ts'));
    },
    COMPILE_TIMEOUT,
  );

  it('keep no data in linear memory: no data sections, which would overwrite other modules', () => {
    expect(sectionIds(CORE_KERNELS.bytes())).not.toContain(DATA_SECTION);
    // The scan itself: a module with a data segment is seen as one.
    const withData = Uint8Array.from([
      ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
      ...[5, 3, 1, 0x00, 1], // memory section: one memory, min 1 page
      ...[11, 7, 1, 0x00, 0x41, 0x00, 0x0b, 1, 42], // data section: one byte at address 0
    ]);
    expect(new WebAssembly.Module(withData)).toBeInstanceOf(WebAssembly.Module);
    expect(sectionIds(withData)).toContain(DATA_SECTION);
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
