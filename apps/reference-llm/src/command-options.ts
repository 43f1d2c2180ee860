import { InvalidArgumentError, Option } from '@commander-js/extra-typings';
import { createDevice, type Device } from '@tessera/tensor-webgpu';

/** An integer ≥ `min`; the message completes commander's "option '--x' argument 'v' is invalid." */
export function integer(min: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isInteger(n) || n < min)
      throw new InvalidArgumentError(`Expected an integer >= ${min}.`);
    return n;
  };
}

/** A finite number in a range; `open` ends exclude the bound (`(0, 1]` is `{ above: 0, atMost: 1 }`). */
export function numberIn(range: {
  above?: number;
  atLeast?: number;
  atMost?: number;
}): (value: string) => number {
  const lo =
    range.above !== undefined
      ? `> ${range.above}`
      : range.atLeast !== undefined
        ? `>= ${range.atLeast}`
        : '';
  const hi = range.atMost !== undefined ? `<= ${range.atMost}` : '';
  const expected = `Expected a number${[lo, hi]
    .filter(Boolean)
    .map((s) => ` ${s}`)
    .join(' and')}.`;
  return (value) => {
    const n = Number(value);
    const ok =
      value.trim() !== '' &&
      Number.isFinite(n) &&
      (range.above === undefined || n > range.above) &&
      (range.atLeast === undefined || n >= range.atLeast) &&
      (range.atMost === undefined || n <= range.atMost);
    if (!ok) throw new InvalidArgumentError(expected);
    return n;
  };
}

/** `--backend`: where tensors live. */
export const backendOption = () =>
  new Option(
    '--backend <kind>',
    'compute device; auto is WebGPU where an adapter exists, else wasm (the CPU cores), else the CPU reference',
  )
    .choices(['auto', 'webgpu', 'wasm', 'cpu'] as const)
    .default('auto' as const);

/** `--checkpoint`: the run folder to read. */
export const checkpointOption = () =>
  new Option('--checkpoint <dir>', 'run folder written by pretrain').default('runs/tiny');

/** `--seed`: seeds sampling or few-shot selection. */
/** `--resume`, a flag of every command that writes a run folder (`RunFolderOptions`). */
export const resumeOption = () =>
  new Option('--resume', 'continue the checkpoint in the run folder').conflicts('force');

/** `--force`, a flag of every command that writes a run folder (`RunFolderOptions`). */
export const forceOption = () =>
  new Option(
    '--force',
    "replace the checkpoint in the run folder (kept until every input passed its checks and the new run's first checkpoint is saved)",
  ).conflicts('resume');

export const seedOption = (what: string) =>
  new Option('--seed <n>', `seed for ${what}`).argParser(integer(0)).default(0);

/** Runs `fn` on a device of the requested backend, destroyed afterwards. */
export async function withDevice<R>(
  backend: 'auto' | 'webgpu' | 'wasm' | 'cpu',
  fn: (device: Device) => Promise<R>,
): Promise<R> {
  const device = await createDevice({ backend });
  try {
    return await fn(device);
  } finally {
    device.destroy();
  }
}
