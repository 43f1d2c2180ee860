import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { microRun } from '../test-utils/serve.js';

// The command as a user runs it: a real process (the TypeScript source through tsx).
const cli = fileURLToPath(new URL('../cli.ts', import.meta.url));
const { cpu } = await testDevices();
const run = await microRun(cpu, 64);

function serve(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', cli, 'serve', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TESSERA_API_KEY: 'from-env' },
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exit = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? signal ?? 'none')),
  );
  const url = new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      const found = /serving on (http:\/\/[\d.:]+)/.exec(output);
      if (found) {
        clearInterval(timer);
        resolve(found[1]!);
      }
    }, 50);
    void exit.then(() => {
      clearInterval(timer);
      reject(new Error(`serve exited:\n${output}`));
    });
  });
  url.catch(() => undefined); // a run that fails on purpose never prints its address
  return { child, url, exit, output: () => output };
}

describe('reference-llm serve', () => {
  it('serves run folders by name on loopback, with the key from the environment, until SIGTERM', async () => {
    const s = serve([
      '--model',
      `micro=${run}`,
      `second=${run}`,
      '--port',
      '0',
      '--backend',
      'cpu',
      '--max-batch',
      '2',
    ]);
    const url = await s.url;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(s.output()).toMatch(
      /micro: .* \(step 2, plain chat format\), 2 rows of 64 positions, KV cache 0\.02 MiB/,
    );
    expect((await fetch(`${url}/v1/models`)).status).toBe(401);
    const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'from-env' });
    expect((await client.models.list()).data.map((m) => m.id)).toEqual(['micro', 'second']);
    const r = await client.completions.create({ model: 'second', prompt: 'ROMEO:', max_tokens: 3 });
    expect(r.usage!.completion_tokens).toBe(3);
    s.child.kill('SIGTERM');
    expect(await s.exit).toBe(0);
  });

  it('warns when it listens beyond loopback, and names a bad flag', async () => {
    const s = serve([
      '--model',
      `micro=${run}`,
      '--port',
      '0',
      '--backend',
      'cpu',
      '--max-batch',
      '1',
      '--host',
      '0.0.0.0',
    ]);
    await s.url;
    expect(s.output()).toMatch(/listening on 0\.0\.0\.0, reachable from other machines/);
    s.child.kill('SIGINT');
    expect(await s.exit).toBe(0);
    const bad = serve(['--port', 'eighty']);
    expect(await bad.exit).toBe(1);
    expect(bad.output()).toMatch(/option '--port <n>' argument 'eighty' is invalid/);
  });
});
