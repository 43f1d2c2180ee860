/**
 * Where the training page keeps its checkpoint: the origin private file system (OPFS) where the
 * page has one, else IndexedDB (a page opened from disk: Chromium gives `file:` pages no OPFS).
 * Both write atomically: a reload, a crash or a closed tab mid-write leaves the previous
 * checkpoint or the new one, never part of one.
 */

/** One checkpoint file, read and replaced whole. */
export interface CheckpointStore {
  /** `'OPFS'` or `'IndexedDB'`, as the page names it. */
  readonly kind: 'OPFS' | 'IndexedDB';
  /** The saved bytes, or undefined when nothing is saved. */
  read(): Promise<Uint8Array | undefined>;
  /** Replaces the saved bytes atomically. */
  write(bytes: Uint8Array): Promise<void>;
}

/** The folder (OPFS) and database (IndexedDB) the page's checkpoint lives in. */
const PLACE = 'tessera-train';
const FILE = 'checkpoint.safetensors';

/** OPFS where the page has it, else IndexedDB. */
export async function openCheckpointStore(): Promise<CheckpointStore> {
  try {
    return await opfsStore();
  } catch {
    return indexedDbStore();
  }
}

/**
 * The checkpoint as a file in OPFS: written whole to a temporary file beside it, then moved
 * over it (a rename, which replaces the old file in one step).
 *
 * @throws DOMException - the page has no OPFS (`navigator.storage.getDirectory` refuses)
 */
export async function opfsStore(): Promise<CheckpointStore> {
  const root = await navigator.storage.getDirectory();
  const folder = await root.getDirectoryHandle(PLACE, { create: true });
  return {
    kind: 'OPFS',
    async read() {
      try {
        const file = await (await folder.getFileHandle(FILE)).getFile();
        return new Uint8Array(await file.arrayBuffer());
      } catch (e) {
        if ((e as DOMException).name === 'NotFoundError') return undefined;
        throw e;
      }
    },
    async write(bytes) {
      const tmp = await folder.getFileHandle(`${FILE}.tmp`, { create: true });
      const out = await tmp.createWritable();
      await out.write(bytes as Uint8Array<ArrayBuffer>);
      await out.close();
      await (tmp as FileSystemFileHandle & { move(name: string): Promise<void> }).move(FILE);
    },
  };
}

/**
 * The checkpoint as a record in IndexedDB: the bytes go in under a new key and the pointer record
 * names that key in one transaction (IndexedDB commits a transaction's writes all or none); the
 * bytes of the previous key are deleted in the same transaction.
 */
export function indexedDbStore(): CheckpointStore {
  const POINTER = 'current';
  const store = async (mode: IDBTransactionMode) => {
    const db = await request(
      Object.assign(indexedDB.open(PLACE, 1), {
        onupgradeneeded: (e: IDBVersionChangeEvent) =>
          (e.target as IDBOpenDBRequest).result.createObjectStore('files'),
      }),
    );
    const tx = db.transaction('files', mode);
    const done = new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onerror = tx.onabort = () => reject(tx.error);
    });
    return { files: tx.objectStore('files'), done: done.finally(() => db.close()) };
  };
  return {
    kind: 'IndexedDB',
    async read() {
      const { files, done } = await store('readonly');
      const key = await request<string | undefined>(files.get(POINTER));
      const bytes = key === undefined ? undefined : await request<Uint8Array>(files.get(key));
      await done;
      return bytes;
    },
    async write(bytes) {
      const { files, done } = await store('readwrite');
      const old = await request<string | undefined>(files.get(POINTER));
      const key = `${FILE}.${Date.now()}`;
      files.put(bytes, key);
      files.put(key, POINTER);
      if (old !== undefined && old !== key) files.delete(old);
      await done;
    },
  };
}

/** An IndexedDB request's result. */
function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}
