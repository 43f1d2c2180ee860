import { describe, expect, it } from 'vitest';
import { entry1d, grid1d, storageBindings, WORKGROUP } from './kernel.js';

describe('1-D kernel helpers', () => {
  it('grid1d gives one workgroup per WORKGROUP items, at least one, capped on software adapters', () => {
    expect(grid1d(0)).toEqual([1, 1, 1]);
    expect(grid1d(WORKGROUP)).toEqual([1, 1, 1]);
    expect(grid1d(WORKGROUP + 1)).toEqual([2, 1, 1]);
    expect(grid1d(WORKGROUP * 100, { software: true })).toEqual([64, 1, 1]);
    expect(grid1d(WORKGROUP * 100, { software: false })).toEqual([100, 1, 1]);
    expect(grid1d(WORKGROUP * 70000)).toEqual([65535, 1, 1]);
  });

  it('binds inputs read-only, then outputs read_write, numbered in order', () => {
    expect(
      storageBindings(
        [
          ['a', 'f32'],
          ['b', 'i32'],
        ],
        [['y', 'f32']],
      ),
    ).toBe(
      '@group(0) @binding(0) var<storage, read> a: array<f32>;\n' +
        '@group(0) @binding(1) var<storage, read> b: array<i32>;\n' +
        '@group(0) @binding(2) var<storage, read_write> y: array<f32>;\n',
    );
  });

  it('entry1d loops with a grid stride up to its bound', () => {
    const code = entry1d('  y[i] = 1.0;', 'P.count');
    expect(code).toContain(`@compute @workgroup_size(${WORKGROUP})`);
    expect(code).toContain(`let stride = nwg.x * ${WORKGROUP}u;`);
    expect(code).toContain('for (var i = gid.x; i < P.count; i += stride) { element(i); }');
    expect(code).toContain('fn element(i: u32) {\n  y[i] = 1.0;\n}');
  });
});
