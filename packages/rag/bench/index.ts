// HNSW against exact search and against hnswlib-node (hnswlib's C++ through N-API) on the same
// vectors, in one run: build time, memory, recall@10 against FlatIndex and queries per second at
// several efSearch values. `npm run bench -w @tessera/rag`; BENCH_N=20000 for a quick run.
//
// Times are CPU time of this process (both libraries run on this thread), best of three passes
// for queries, so that other work on a shared machine does not skew the ratios.
//
// The vectors have a low intrinsic dimension, as text embeddings do: x = W·z + noise with z a
// 16-dimensional standard normal, W a fixed 128×16 normal matrix and noise of standard deviation
// 0.1 per coordinate; queries are drawn the same way. Everything is seeded.
import hnswlib from 'hnswlib-node';
import { FlatIndex, HnswIndex, type VectorRecord } from '../src/index.js';
import { SeededUniform } from '../src/random.js';

const N = Number(process.env.BENCH_N ?? 100_000);
const DIM = 128;
const LATENT = 16;
const QUERIES = 1000;
const K = 10;
const M = 16;
const EF_CONSTRUCTION = 200;
const EF_SEARCH = [16, 32, 64, 128, 256];

const rng = new SeededUniform(2026);
const normal = () => Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
const W = Float64Array.from({ length: DIM * LATENT }, normal);
function sample(): Float32Array {
  const z = Float64Array.from({ length: LATENT }, normal);
  const x = new Float32Array(DIM);
  for (let i = 0; i < DIM; i++) {
    let s = 0;
    for (let j = 0; j < LATENT; j++) s += W[i * LATENT + j]! * z[j]!;
    x[i] = s + 0.1 * normal();
  }
  return x;
}
const data: VectorRecord[] = Array.from({ length: N }, (_, i) => ({
  id: String(i),
  vector: sample(),
}));
const queries = Array.from({ length: QUERIES }, sample);

/** CPU seconds (user + system) since `start`, a `process.cpuUsage()` reading. */
const seconds = (start: NodeJS.CpuUsage) => {
  const { user, system } = process.cpuUsage(start);
  return (user + system) / 1e6;
};
const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MB`;
const heap = () => {
  globalThis.gc?.();
  return process.memoryUsage();
};

console.log(
  `${N} vectors, dimension ${DIM} (intrinsic ${LATENT}), cosine; ${QUERIES} queries, k = ${K}; CPU time`,
);
console.log(`HNSW M = ${M}, efConstruction = ${EF_CONSTRUCTION} for both libraries\n`);

// Exact search: the ground truth and the speed baseline.
const flat = new FlatIndex({ dimension: DIM, metric: 'cosine' });
flat.add(data);
let t0 = process.cpuUsage();
const truth = queries.map((q) => new Set(flat.search(q, K).map((h) => h.id)));
const flatQps = QUERIES / seconds(t0);
console.log(`FlatIndex: ${flatQps.toFixed(0)} queries/s (exact)`);

// Ours.
let before = heap();
t0 = process.cpuUsage();
const ours = new HnswIndex({
  dimension: DIM,
  metric: 'cosine',
  m: M,
  efConstruction: EF_CONSTRUCTION,
});
ours.add(data);
const oursBuild = seconds(t0);
const oursHeap = heap().heapUsed + heap().arrayBuffers - before.heapUsed - before.arrayBuffers;
console.log(
  `Tessera HnswIndex: built in ${oursBuild.toFixed(1)} CPU s; typed arrays ${mb(ours.memoryBytes())}, heap + buffers grew ${mb(oursHeap)}`,
);

// hnswlib-node, fed the same vectors as plain arrays (its API); conversion is not timed.
const plain = data.map((r) => Array.from(r.vector));
const plainQueries = queries.map((q) => Array.from(q));
before = heap();
t0 = process.cpuUsage();
const theirs = new hnswlib.HierarchicalNSW('cosine', DIM);
theirs.initIndex({ maxElements: N, m: M, efConstruction: EF_CONSTRUCTION, randomSeed: 100 });
for (let i = 0; i < N; i++) theirs.addPoint(plain[i]!, i);
const theirsBuild = seconds(t0);
const theirsRss = process.memoryUsage().rss - before.rss;
console.log(
  `hnswlib-node 3.0.0: built in ${theirsBuild.toFixed(1)} CPU s; resident memory grew ${mb(theirsRss)}\n`,
);

interface Row {
  ef: number;
  recall: number;
  qps: number;
}
function measure(search: (i: number) => Iterable<string>): Omit<Row, 'ef'> {
  let qps = 0;
  let found: string[][] = [];
  for (let pass = 0; pass < 3; pass++) {
    const start = process.cpuUsage();
    found = [];
    for (let i = 0; i < QUERIES; i++) found.push([...search(i)]);
    qps = Math.max(qps, QUERIES / seconds(start));
  }
  let hits = 0;
  found.forEach((ids, i) => {
    for (const id of ids) if (truth[i]!.has(id)) hits++;
  });
  return { recall: hits / (QUERIES * K), qps };
}

const rows: { ef: number; ours: Omit<Row, 'ef'>; theirs: Omit<Row, 'ef'> }[] = [];
for (const ef of EF_SEARCH) {
  ours.efSearch = ef;
  theirs.setEf(ef);
  // Warm both, then measure.
  for (let i = 0; i < 50; i++) {
    ours.search(queries[i]!, K);
    theirs.searchKnn(plainQueries[i]!, K);
  }
  rows.push({
    ef,
    ours: measure((i) => ours.search(queries[i]!, K).map((h) => h.id)),
    theirs: measure((i) => theirs.searchKnn(plainQueries[i]!, K).neighbors.map(String)),
  });
}

const pad = (s: string, n: number) => s.padStart(n);
console.log(
  `${pad('efSearch', 8)} | ${pad('recall@10', 9)} ${pad('queries/s', 10)} ${pad('vs flat', 8)} | ${pad('hnswlib recall', 14)} ${pad('queries/s', 10)} ${pad('vs flat', 8)} | ${pad('ours / hnswlib', 14)}`,
);
for (const { ef, ours: o, theirs: t } of rows)
  console.log(
    `${pad(String(ef), 8)} | ${pad(o.recall.toFixed(4), 9)} ${pad(o.qps.toFixed(0), 10)} ${pad(`${(o.qps / flatQps).toFixed(1)}×`, 8)} | ${pad(t.recall.toFixed(4), 14)} ${pad(t.qps.toFixed(0), 10)} ${pad(`${(t.qps / flatQps).toFixed(1)}×`, 8)} | ${pad(`${(o.qps / t.qps).toFixed(2)}×`, 14)}`,
  );

// The figure the issue asks for: the fastest setting with recall@10 >= 0.95, for each library.
const best = (pick: (r: (typeof rows)[number]) => Omit<Row, 'ef'>) =>
  rows.find((r) => pick(r).recall >= 0.95);
const o = best((r) => r.ours);
const t = best((r) => r.theirs);
console.log(
  `\nrecall@10 >= 0.95: ours at efSearch ${o?.ef ?? 'none'} (${o ? `${(o.ours.qps / flatQps).toFixed(1)}× flat` : '—'}), ` +
    `hnswlib at efSearch ${t?.ef ?? 'none'} (${t ? `${(t.theirs.qps / flatQps).toFixed(1)}× flat` : '—'})` +
    (o && t
      ? `; at those settings ours runs ${(o.ours.qps / t.theirs.qps).toFixed(2)}× hnswlib's queries/s`
      : ''),
);
console.log(`build: ours ${(oursBuild / theirsBuild).toFixed(2)}× hnswlib's time`);
