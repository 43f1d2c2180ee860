import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { evaluateCheckpoint } from './evaluate.js';
import { pretrain } from './pretrain.js';
import { data, micro, tempDir } from './test-utils/fixtures.js';

const { gpu, cpu } = await testDevices();
const device = gpu ?? cpu;

describe('evaluateCheckpoint', () => {
  it('scores every validation token once, reporting progress window by window', async () => {
    const dir = tempDir();
    await pretrain({ preset: micro, out: dir, steps: 2, data, device, sink: { write: () => {} } });
    const seen: [number, number][] = [];
    const ev = await evaluateCheckpoint(dir, {
      device,
      data,
      onProgress: (d, t) => seen.push([d, t]),
    });
    expect(ev.perplexity).toBeGreaterThan(1);
    expect(ev.bitsPerByte).toBeGreaterThan(0);
    const windows = Math.ceil(ev.tokens / micro.model.maxSeqLen);
    expect(seen).toHaveLength(windows);
    expect(seen.at(-1)).toEqual([windows, windows]);
  });
});
