// CommonJS: Node >= 20.19 loads the ES module through require(esm).
const { Bm25Index } = require('@tessera/rag');

const bm25 = new Bm25Index();
bm25.add([
  { id: 'a', text: 'Mitochondria make ATP.' },
  { id: 'b', text: 'Chloroplasts capture light.' },
]);
console.log(`BM25 (Lucene) top hit for "ATP": ${bm25.search('ATP', 1)[0].id}`);
