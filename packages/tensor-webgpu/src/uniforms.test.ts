import { describe, expect, it } from 'vitest';
import { laneRead, Uniforms } from './uniforms.js';

describe('Uniforms', () => {
  it('packs scalars at 4-byte steps and a u32 list at the next 16-byte boundary, padded to 16', () => {
    const u = new Uniforms().u32('n', 7).f32('scale', 0.5).i32('shift', -3).u32s('dims', [2, 3, 4]);
    const bytes = u.bytes();
    const view = new DataView(bytes);
    expect(view.getUint32(0, true)).toBe(7);
    expect(view.getFloat32(4, true)).toBe(0.5);
    expect(view.getInt32(8, true)).toBe(-3);
    // Capacity 8 → two vec4 lanes at offset 16; unused lanes are zero.
    expect(Array.from(new Uint32Array(bytes, 16, 8))).toEqual([2, 3, 4, 0, 0, 0, 0, 0]);
    // 48 bytes of fields plus the struct's trailing _pad word, rounded up to 16.
    expect(bytes.byteLength).toBe(64);
    expect(new Uniforms().u32('n', 1).bytes().byteLength).toBe(16);
  });

  it('declares the matching WGSL struct and binding', () => {
    const u = new Uniforms().u32('n', 1).u32s('dims', [1], 5);
    expect(u.declaration(3)).toBe(
      'struct Params {\n  n: u32,\n  dims: array<vec4<u32>, 2>,\n  _pad: u32,\n}\n@group(0) @binding(3) var<uniform> P: Params;\n',
    );
    expect(laneRead('dims', '5u')).toBe('P.dims[(5u) / 4u][(5u) % 4u]');
  });

  it('refuses a list longer than its capacity, naming it', () => {
    expect(() => new Uniforms().u32s('strides', [1, 2, 3], 2)).toThrow(
      'uniform strides: 3 values exceed capacity 2',
    );
  });
});
