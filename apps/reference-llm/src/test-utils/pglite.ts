import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

/**
 * A real PostgreSQL with pgvector for tests: PGlite (Postgres in WebAssembly) behind its socket
 * server, reached through `pg` like any server. Returns its URL and how to stop it. Starting it
 * compiles a large module: seconds on an idle machine, a minute or more on a loaded one.
 */
export async function startPglite(): Promise<{ url: string; stop(): Promise<void> }> {
  const db = await PGlite.create({ extensions: { vector } });
  const server = new PGLiteSocketServer({ db, port: 0, host: '127.0.0.1', maxConnections: 16 });
  await server.start();
  return {
    url: `postgres://postgres@${server.getServerConn()}/postgres`,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
