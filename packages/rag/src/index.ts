export { Bm25Index, type Bm25Options, defaultAnalyzer, type TextDocument } from './bm25.js';
