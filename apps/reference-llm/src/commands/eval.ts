import { Command } from '@commander-js/extra-typings';
import { backendOption, checkpointOption, withDevice } from '../command-options.js';
import { DEFAULT_DATA } from '../data.js';
import { evaluateCheckpoint } from '../evaluate.js';
import type { PretrainState } from '../pretrain.js';
import { Progress } from '../progress.js';
import { readCheckpoint } from '../run-folder.js';

export const evalCommand = () =>
  new Command('eval')
    .summary('validation perplexity and bits per byte of a checkpoint, over every validation token')
    .addOption(checkpointOption())
    .option(
      '--data <file>',
      'text whose validation split (last 10%) is scored (default: the one the run trained on)',
    )
    .addOption(backendOption())
    .action(async (o) => {
      const trained = readCheckpoint<PretrainState>(o.checkpoint).state.data?.path;
      const data =
        o.data ?? (trained === undefined || trained === 'bundled' ? DEFAULT_DATA : trained);
      const r = await withDevice(o.backend, (device) => {
        let progress: Progress | undefined;
        return evaluateCheckpoint(o.checkpoint, {
          device,
          data,
          onProgress: (done, total) => {
            progress ??= new Progress('eval', total);
            progress.update(done);
          },
        });
      });
      console.log(
        `validation: ${r.tokens} tokens, ${r.meanNll.toFixed(4)} nats/token, perplexity ${r.perplexity.toFixed(2)}, ${r.bitsPerByte.toFixed(3)} bits/byte`,
      );
    });
