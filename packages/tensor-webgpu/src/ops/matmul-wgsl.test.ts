import { describe, expect, it } from 'vitest';
import { matmulTile, registerTile } from './matmul-wgsl.js';

describe('matmul tiles', () => {
  it('the register tile covers small outputs with the fewest thrown-away rows and columns', () => {
    expect(registerTile(1, 1)).toEqual({ rows: 1, cols: 1 });
    expect(registerTile(17, 33)).toEqual({ rows: 2, cols: 3 });
    expect(registerTile(48, 48)).toEqual({ rows: 3, cols: 3 });
    // At least 128 × 64: the shared 8 × 4 tile.
    expect(registerTile(128, 64)).toEqual({ rows: 8, cols: 4 });
    expect(registerTile(5000, 5000)).toEqual({ rows: 8, cols: 4 });
  });

  it('a workgroup spans 16 threads of its tile each way (the tiled kernel: 64 × 64)', () => {
    expect(matmulTile('register', 17, 33)).toEqual([32, 48]);
    expect(matmulTile('register', 1000, 1000)).toEqual([128, 64]);
    expect(matmulTile('tiled', 1, 1)).toEqual([64, 64]);
  });
});
