/**
 * Where attention's device time goes, kernel by kernel (`device.profile`, GPU timestamps):
 * `npx tsx bench/profile.ts [--kernel=row|lanes|tiled] [--quick] [--rounds=N]` in the package.
 * For each shape, flash forward and backward (its three kernels: forward, dQ, dK/dV) and the
 * naive path (scores materialised, core ops) forward and backward, best of alternating rounds;
 * the workgroups each flash kernel launches (a CPU adapter runs them on its threads, a GPU on
 * its multiprocessors); and ns per (query, key) pair and head dim element — the serial cost.
 */
import * as T from '@tessera/tensor-webgpu';
import { attention, type FlashKernel, naiveAttention } from '../src/index.js';
import { LANE_TILE, LANES } from '../src/lane-kernels.js';

const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const kernel = (arg('kernel') ?? 'auto') as FlashKernel | 'auto';
const quick = process.argv.includes('--quick');
const rounds = Number(arg('rounds') ?? 2);
const dev = await T.createDevice({ backend: 'webgpu' });

/** [heads, seq, headDim, causal] */
const SHAPES: [number, number, number, boolean][] = quick
  ? [
      [4, 1024, 64, false],
      [4, 1024, 64, true],
    ]
  : [
      [4, 1024, 64, false],
      [4, 1024, 64, true],
      [1, 256, 64, false],
      [8, 256, 64, false],
      [4, 1024, 32, false],
      [4, 1024, 128, false],
      [1, 4096, 64, true],
    ];

/** Summed kernel time by op (the kernel key's first field), best over `rounds` profiles. */
async function kernelTimes(fn: () => void): Promise<Map<string, number>> {
  T.tidy(fn); // compiles the pipelines
  await dev.sync();
  const best = new Map<string, number>();
  for (let r = 0; r < rounds; r++) {
    const p = await dev.profile(async () => {
      T.tidy(fn);
      await dev.sync();
    });
    const byOp = new Map<string, number>();
    for (const k of p.kernels) {
      const op = k.name.startsWith('flash') ? k.name.split(':')[0]! : 'naive';
      byOp.set(op, (byOp.get(op) ?? 0) + k.totalMs);
    }
    for (const [op, ms] of byOp)
      best.set(op, Math.min(best.get(op) ?? Number.POSITIVE_INFINITY, ms));
  }
  return best;
}

console.log(`adapter: ${dev.info.adapter}; flash kernel: ${kernel}; best of ${rounds}\n`);
console.log(
  '| heads × seq × d | causal | flash fwd | flash dQ | flash dK/dV | naive fwd | naive bwd | flash fwd ns/(pair·d) | workgroups fwd / dQ / dK,dV |',
);
console.log('|---|---|--:|--:|--:|--:|--:|--:|--:|');
for (const [h, s, d, causal] of SHAPES) {
  const [q, k, v] = [1, 2, 3].map((seed) => T.randn([1, h, s, d], { seed }));
  const backward = (f: () => T.Tensor) => () => {
    T.sum(f()).backward();
  };
  const grads = () => [q, k, v].map((t) => t!.detach().requiresGrad_()) as T.Tensor[];
  const flash = await kernelTimes(
    backward(() => {
      const [qq, kk, vv] = grads();
      return attention(qq!, kk!, vv!, { causal, kernel });
    }),
  );
  const naiveF = await kernelTimes(() => {
    naiveAttention(q!, k!, v!, { causal });
  });
  const naiveB = await kernelTimes(
    backward(() => {
      const [qq, kk, vv] = grads();
      return naiveAttention(qq!, kk!, vv!, { causal });
    }),
  );
  const ms = (x: number | undefined) => (x === undefined ? 'n/a' : x.toFixed(1));
  const naiveBwd = (naiveB.get('naive') ?? 0) - (naiveF.get('naive') ?? 0);
  const pairs = h * s * (causal ? (s + 1) / 2 : s);
  const ns = ((flash.get('flash_fwd') ?? 0) * 1e6) / (pairs * d);
  const wg = workgroups(kernel, h, s);
  console.log(
    `| ${h} × ${s} × ${d} | ${causal ? 'yes' : 'no'} | ${ms(flash.get('flash_fwd'))} | ${ms(flash.get('flash_dq'))} | ${ms(flash.get('flash_dkv'))} | ${ms(naiveF.get('naive'))} | ${ms(naiveBwd)} | ${ns.toFixed(3)} | ${wg} |`,
  );
}

/** Workgroups of the flash kernels at [1, h, s, ·] (rows per workgroup as the kernels set them). */
function workgroups(k: FlashKernel | 'auto', h: number, s: number): string {
  const chosen = k === 'auto' ? (dev.info.software ? 'lanes' : 'tiled') : k;
  const rows = chosen === 'lanes' ? LANES * LANE_TILE.rows : 32;
  const n = h * Math.ceil(s / rows);
  return `${n} / ${n} / ${n}`;
}

dev.destroy();
process.exit(0);
