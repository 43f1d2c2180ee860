import { FlatIndex } from './flat-index.js';
import { HnswIndex } from './hnsw.js';
import { decodeIndexFile, IndexFileError } from './index-file.js';

/**
 * Reads any index image written by `toBytes()`: a `FlatIndex` or an `HnswIndex`, by its header.
 *
 * @param source - names the file in error messages
 * @throws IndexFileError - not an index image, corrupt, truncated, another version or kind (an
 *   `HnswlibStore` file is read by `HnswlibStore.load`)
 */
export function readIndex(bytes: Uint8Array, source = 'index'): FlatIndex | HnswIndex {
  const image = decodeIndexFile(bytes, source);
  if (image.header.kind === 'flat') return FlatIndex.fromBytes(image, source);
  if (image.header.kind === 'hnsw') return HnswIndex.fromBytes(image, source);
  if (image.header.kind === 'hnswlib')
    throw new IndexFileError(
      `${source}: an hnswlib index; read it with HnswlibStore.load from @tessera/rag/hnswlib`,
    );
  throw new IndexFileError(`${source}: unknown index kind ${JSON.stringify(image.header.kind)}`);
}
