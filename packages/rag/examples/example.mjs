import { augmentPrompt, chunkDocuments, evaluateRun, HnswIndex, Retriever } from '@tessera/rag';

// Any model with embed(texts) → Float32Array[] plugs in; this one hashes words, for the example.
const embedder = {
  embed: (texts) =>
    texts.map((text) => {
      const v = new Float32Array(64).fill(0.01);
      for (const w of text.toLowerCase().match(/\w+/g) ?? [])
        v[[...w].reduce((h, c) => (h * 31 + c.charCodeAt(0)) % 64, 7)] += 1;
      return v;
    }),
};

const docs = [
  { id: 'cells.md', text: 'Mitochondria make ATP.\n\nRibosomes build proteins from RNA.' },
  { id: 'plants.md', text: 'Chloroplasts capture light.\n\nRoots take up water.' },
];
const chunks = chunkDocuments(docs, { chunkSize: 40 });

// BM25 and dense vectors side by side, fused by reciprocal rank.
const retriever = new Retriever({ embedder, store: new HnswIndex({ dimension: 64 }) });
await retriever.add(chunks);
const hits = await retriever.search('what makes ATP?', 2);
console.log('top hit:', hits[0].id, JSON.stringify(hits[0].text));

// A prompt that cites its sources by number, and a BEIR-style evaluation.
const { prompt, citations } = augmentPrompt('What makes ATP?', hits);
console.log(prompt.split('\n').slice(2, 5).join(' | '), '→', citations[0].sourceId);
const run = { q1: Object.fromEntries(hits.map((h) => [h.id, h.score])) };
console.log('nDCG@10', evaluateRun(run, { q1: { 'cells.md#0': 1 } }).mean['nDCG@10']);
