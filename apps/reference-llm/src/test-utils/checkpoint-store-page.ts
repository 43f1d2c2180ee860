/**
 * A page module for `web/checkpoint-store.test.ts` (run in headless Chromium by
 * `@tessera/browser-testing`): writes two checkpoints into each store and reports what reads
 * back and what the store holds after.
 */
import {
  type CheckpointStore,
  indexedDbStore,
  openCheckpointStore,
  opfsStore,
} from '../web/checkpoint-store.js';

async function exercise(store: CheckpointStore) {
  const empty = await store.read();
  await store.write(new Uint8Array([1, 2, 3]));
  const first = await store.read();
  await store.write(new Uint8Array([4, 5]));
  const second = await store.read();
  return {
    kind: store.kind,
    empty: empty === undefined,
    first: first && Array.from(first),
    second: second && Array.from(second),
  };
}

/** The names in the OPFS folder, and the number of IndexedDB records, after the writes. */
async function leftovers() {
  const folder = await (await navigator.storage.getDirectory()).getDirectoryHandle('tessera-train');
  const files: string[] = [];
  for await (const name of (folder as unknown as { keys(): AsyncIterable<string> }).keys())
    files.push(name);
  const db = await new Promise<IDBDatabase>((resolve, reject) => {
    const r = indexedDB.open('tessera-train');
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
  const records = await new Promise<number>((resolve, reject) => {
    const r = db.transaction('files').objectStore('files').count();
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
  db.close();
  return { files: files.sort(), records };
}

export default async function run() {
  return {
    chosen: (await openCheckpointStore()).kind,
    opfs: await exercise(await opfsStore()),
    indexedDb: await exercise(indexedDbStore()),
    ...(await leftovers()),
  };
}
