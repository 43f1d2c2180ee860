// Matrix product C = alpha·(A @ B) + beta·E over strided operands, batched, on wasm SIMD128.
//
// The structure is BLIS's (Van Zee & van de Geijn, "BLIS: A Framework for Rapidly Instantiating
// BLAS Functionality", 2015): the output is cut into MC×NC blocks that threads take in turn; for
// each slice of KC along the inner dimension a block of A is packed into MR-row panels and a
// block of B into NR-column panels (contiguous, zero-padded at the edges), and a 4×8 register
// tile — eight f32x4 accumulators — runs over each pair of panels. Packing reads A and B through
// their strides, so transposed operands cost nothing extra.

const MR: i32 = 4;
const NR: i32 = 8;

/** Output epilogues: 0 nothing, 1 a row vector E[n] added to every row, 2 a full E[batch, m, n]. */
const EPILOGUE_FULL: i32 = 2;

/** Bytes of per-thread scratch `matmul` needs for blocks of mc × nc × kc. */
export function matmulScratch(mc: i32, nc: i32, kc: i32): i32 {
  return (mc * kc + kc * nc + MR * NR) * 4;
}

/**
 * C[b] = alpha·(A[b] @ B[b]) + beta·E for b < batch. A is m×k read at a + 4·(i·as0 + p·as1) plus
 * 4·b·ab per batch, B likewise; C (and a full E) are packed [batch, m, n]. Threads take the
 * mc×nc output blocks in turn; `scratch` holds `matmulScratch(mc, nc, kc)` bytes per thread.
 */
export function matmul(
  thread: i32,
  threads: i32,
  a: usize,
  as0: i32,
  as1: i32,
  ab: i32,
  b: usize,
  bs0: i32,
  bs1: i32,
  bb: i32,
  c: usize,
  e: usize,
  epilogue: i32,
  alpha: f32,
  beta: f32,
  m: i32,
  n: i32,
  k: i32,
  batch: i32,
  mc: i32,
  nc: i32,
  kc: i32,
  scratch: usize,
): void {
  const packedA = scratch + <usize>(thread * matmulScratch(mc, nc, kc));
  const packedB = packedA + <usize>(mc * kc * 4);
  const edge = packedB + <usize>(kc * nc * 4);
  const rowBlocks = (m + mc - 1) / mc;
  const colBlocks = (n + nc - 1) / nc;
  const units = batch * rowBlocks * colBlocks;
  for (let unit = thread; unit < units; unit += threads) {
    const bi = unit / (rowBlocks * colBlocks);
    const rest = unit % (rowBlocks * colBlocks);
    const i0 = (rest / colBlocks) * mc;
    const j0 = (rest % colBlocks) * nc;
    const rows = min(mc, m - i0);
    const cols = min(nc, n - j0);
    const aBase = a + <usize>(bi * ab) * 4;
    const bBase = b + <usize>(bi * bb) * 4;
    const cBase = c + <usize>(bi * m * n) * 4;
    if (k == 0) zeroBlock(cBase, n, i0, j0, rows, cols);
    for (let p0 = 0; p0 < k; p0 += kc) {
      const depth = min(kc, k - p0);
      packA(packedA, aBase, as0, as1, i0, p0, rows, depth);
      packB(packedB, bBase, bs0, bs1, p0, j0, depth, cols);
      const accumulate = p0 > 0;
      for (let jr = 0; jr < cols; jr += NR) {
        const bPanel = packedB + <usize>(jr * depth * 4);
        const w = min(NR, cols - jr);
        for (let ir = 0; ir < rows; ir += MR) {
          const aPanel = packedA + <usize>(ir * depth * 4);
          const h = min(MR, rows - ir);
          const at = cBase + <usize>((i0 + ir) * n + j0 + jr) * 4;
          if (h == MR && w == NR) tile(aPanel, bPanel, depth, at, <usize>n * 4, accumulate);
          else {
            tile(aPanel, bPanel, depth, edge, NR * 4, false);
            copyEdge(edge, at, n, h, w, accumulate);
          }
        }
      }
    }
    if (epilogue != 0 || alpha != 1) {
      finish(cBase, n, i0, j0, rows, cols, e, epilogue, bi * m * n, alpha, beta);
    }
  }
}

/** The 4×8 register tile: C[0:4, 0:8] (+)= Apanel[kc×4]ᵀ @ Bpanel[kc×8]. */
@inline
function tile(ap: usize, bp: usize, depth: i32, c: usize, ldc: usize, accumulate: bool): void {
  let c00 = f32x4.splat(0);
  let c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0);
  let c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0);
  let c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0);
  let c31 = f32x4.splat(0);
  for (let p = 0; p < depth; p++) {
    const b0 = v128.load(bp);
    const b1 = v128.load(bp, 16);
    let x = v128.load32_splat(ap);
    c00 = f32x4.add(c00, f32x4.mul(x, b0));
    c01 = f32x4.add(c01, f32x4.mul(x, b1));
    x = v128.load32_splat(ap, 4);
    c10 = f32x4.add(c10, f32x4.mul(x, b0));
    c11 = f32x4.add(c11, f32x4.mul(x, b1));
    x = v128.load32_splat(ap, 8);
    c20 = f32x4.add(c20, f32x4.mul(x, b0));
    c21 = f32x4.add(c21, f32x4.mul(x, b1));
    x = v128.load32_splat(ap, 12);
    c30 = f32x4.add(c30, f32x4.mul(x, b0));
    c31 = f32x4.add(c31, f32x4.mul(x, b1));
    ap += 16;
    bp += 32;
  }
  if (accumulate) {
    c00 = f32x4.add(c00, v128.load(c));
    c01 = f32x4.add(c01, v128.load(c, 16));
    c10 = f32x4.add(c10, v128.load(c + ldc));
    c11 = f32x4.add(c11, v128.load(c + ldc, 16));
    c20 = f32x4.add(c20, v128.load(c + 2 * ldc));
    c21 = f32x4.add(c21, v128.load(c + 2 * ldc, 16));
    c30 = f32x4.add(c30, v128.load(c + 3 * ldc));
    c31 = f32x4.add(c31, v128.load(c + 3 * ldc, 16));
  }
  v128.store(c, c00);
  v128.store(c, c01, 16);
  v128.store(c + ldc, c10);
  v128.store(c + ldc, c11, 16);
  v128.store(c + 2 * ldc, c20);
  v128.store(c + 2 * ldc, c21, 16);
  v128.store(c + 3 * ldc, c30);
  v128.store(c + 3 * ldc, c31, 16);
}

/** Packs A[i0:i0+rows, p0:p0+depth] into MR-row panels, p-major within a panel, zero rows past the edge. */
function packA(dst: usize, a: usize, as0: i32, as1: i32, i0: i32, p0: i32, rows: i32, depth: i32): void {
  for (let ir = 0; ir < rows; ir += MR) {
    const h = min(MR, rows - ir);
    for (let ii = 0; ii < MR; ii++) {
      let out = dst + <usize>((ir * depth) + ii) * 4;
      if (ii >= h) {
        for (let p = 0; p < depth; p++) {
          store<f32>(out, 0);
          out += MR * 4;
        }
        continue;
      }
      let src = a + <usize>((i0 + ir + ii) * as0 + p0 * as1) * 4;
      const step = <usize>as1 * 4;
      for (let p = 0; p < depth; p++) {
        store<f32>(out, load<f32>(src));
        out += MR * 4;
        src += step;
      }
    }
  }
}

/** Packs B[p0:p0+depth, j0:j0+cols] into NR-column panels, p-major within a panel, zero columns past the edge. */
function packB(dst: usize, b: usize, bs0: i32, bs1: i32, p0: i32, j0: i32, depth: i32, cols: i32): void {
  for (let jr = 0; jr < cols; jr += NR) {
    const w = min(NR, cols - jr);
    let out = dst + <usize>(jr * depth) * 4;
    let src = b + <usize>(p0 * bs0 + (j0 + jr) * bs1) * 4;
    const rowStep = <usize>bs0 * 4;
    if (w == NR && bs1 == 1) {
      for (let p = 0; p < depth; p++) {
        v128.store(out, v128.load(src));
        v128.store(out, v128.load(src, 16), 16);
        out += NR * 4;
        src += rowStep;
      }
      continue;
    }
    for (let p = 0; p < depth; p++) {
      for (let jj = 0; jj < NR; jj++) {
        store<f32>(out + <usize>jj * 4, jj < w ? load<f32>(src + <usize>(jj * bs1) * 4) : 0);
      }
      out += NR * 4;
      src += rowStep;
    }
  }
}

/** Copies (or adds) the h×w corner of an edge tile into C. */
function copyEdge(tileAt: usize, c: usize, n: i32, h: i32, w: i32, accumulate: bool): void {
  for (let i = 0; i < h; i++) {
    const row = c + <usize>(i * n) * 4;
    const from = tileAt + <usize>(i * NR) * 4;
    for (let j = 0; j < w; j++) {
      const at = row + <usize>j * 4;
      const v = load<f32>(from + <usize>j * 4);
      store<f32>(at, accumulate ? load<f32>(at) + v : v);
    }
  }
}

function zeroBlock(c: usize, n: i32, i0: i32, j0: i32, rows: i32, cols: i32): void {
  for (let i = 0; i < rows; i++) {
    memory.fill(c + <usize>((i0 + i) * n + j0) * 4, 0, <usize>cols * 4);
  }
}

/** C = alpha·C + beta·E over one block. */
function finish(
  c: usize,
  n: i32,
  i0: i32,
  j0: i32,
  rows: i32,
  cols: i32,
  e: usize,
  epilogue: i32,
  eBatch: i32,
  alpha: f32,
  beta: f32,
): void {
  for (let i = 0; i < rows; i++) {
    const row = c + <usize>((i0 + i) * n + j0) * 4;
    const eRow =
      epilogue == EPILOGUE_FULL
        ? e + <usize>(eBatch + (i0 + i) * n + j0) * 4
        : e + <usize>j0 * 4;
    for (let j = 0; j < cols; j++) {
      const at = row + <usize>j * 4;
      const extra = epilogue == 0 ? <f32>0 : beta * load<f32>(eRow + <usize>j * 4);
      store<f32>(at, alpha * load<f32>(at) + extra);
    }
  }
}
