import { readFileSync } from 'node:fs';

/**
 * Values computed by PyTorch 1.13 (fixtures/make_fixtures.py), an implementation independent of
 * ours: an MLP, cross-entropy over a softmax, and layer norm, with their gradients.
 */
export const golden = JSON.parse(
  readFileSync(new URL('../../fixtures/torch-golden.json', import.meta.url), 'utf8'),
);
