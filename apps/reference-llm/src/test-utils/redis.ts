import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { Queue } from 'bullmq';
import { QUEUE_NAME, redisConnection } from '../queue/bullmq.js';
import { tempDir } from './fixtures.js';

/** A free TCP port on the loopback interface (the OS picks it; the socket is closed at once). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * A real `redis-server` (Debian's package) on a free port, in a fresh folder, with nothing saved
 * to disk; `stop()` ends it. A machine without the binary fails the test that asked, saying how to
 * install it: never a silent skip.
 */
export async function startRedis(): Promise<{ url: string; stop: () => Promise<void> }> {
  if (spawnSync('redis-server', ['--version']).error)
    throw new Error(
      'redis-server is not installed: the queue tests run a real one (apt-get install redis-server)',
    );
  const port = await freePort();
  const dir = tempDir('tessera-redis-');
  const child: ChildProcess = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'no',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  await new Promise<void>((resolve, reject) => {
    const take = (d: Buffer) => {
      log += d;
      if (log.includes('Ready to accept connections')) resolve();
    };
    child.stdout!.on('data', take);
    child.stderr!.on('data', take);
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}:\n${log}`)));
  });
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** The evaluation queue's jobs that completed and that failed for good. */
export async function queueCounts(url: string): Promise<{ completed: number; failed: number }> {
  const queue = new Queue(QUEUE_NAME, { connection: redisConnection(url) });
  try {
    const c = await queue.getJobCounts('completed', 'failed');
    return { completed: c.completed!, failed: c.failed! };
  } finally {
    await queue.close();
  }
}

/** Removes every job of the evaluation queue (between tests). */
export async function emptyQueue(url: string): Promise<void> {
  const queue = new Queue(QUEUE_NAME, { connection: redisConnection(url) });
  try {
    await queue.obliterate({ force: true });
  } finally {
    await queue.close();
  }
}
