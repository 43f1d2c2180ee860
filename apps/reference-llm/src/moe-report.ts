import type { DecoderLM } from '@tessera/transformer';
import {
  type ExpertLoadHistory,
  expertLoadSvg,
  finalDroppedShare,
  finalMaxLoad,
} from './expert-load.js';
import type { RunReport } from './report.js';
import { routingSvg, type SentenceRouting } from './routing-picture.js';

/** What an MoE pretraining run adds to its report: the expert load over the run, a sentence's routing. */
export interface MoERun {
  load: ExpertLoadHistory;
  sentence: SentenceRouting;
}

/**
 * The MoE part of a pretraining report: rows for the active parameters and each layer's max /
 * mean expert load at the end — with a capacity factor, also the share of assignments each
 * layer dropped in the last column — the same in `report.json`, and the two pictures
 * (`expert-load.svg`, `routing.svg`).
 */
export function moeReport(
  model: DecoderLM,
  run: MoERun,
): Pick<Required<RunReport>, 'facts' | 'summary' | 'figures'> {
  const maxLoad = finalMaxLoad(run.load);
  const { experts, capacityFactor } = model.config.moe!;
  const dropped = capacityFactor === undefined ? undefined : finalDroppedShare(run.load);
  const text = run.sentence.tokens.join('');
  return {
    facts: [
      ['active parameters per token', String(model.activeParameters())],
      [
        'expert load at the end (max / mean, per layer)',
        Object.values(maxLoad)
          .map((x) => x.toFixed(2))
          .join(', '),
      ],
      ...(dropped
        ? [
            [
              `assignments dropped at the end (capacity factor ${capacityFactor}, per layer)`,
              Object.values(dropped)
                .map((x) => `${(100 * x).toFixed(1)}%`)
                .join(', '),
            ] as [string, string],
          ]
        : []),
    ],
    summary: {
      activeParameters: model.activeParameters(),
      finalMaxLoad: maxLoad,
      ...(dropped ? { capacityFactor, finalDroppedShare: dropped } : {}),
    },
    figures: [
      {
        file: 'expert-load.svg',
        title: 'expert load over training (experts × steps)',
        svg: expertLoadSvg(run.load, 'expert load over training: assignments / mean, per layer'),
      },
      {
        file: 'routing.svg',
        title: 'token → expert routing of a validation sentence',
        svg: routingSvg(run.sentence, experts, `token → expert routing: ${JSON.stringify(text)}`),
      },
    ],
  };
}
