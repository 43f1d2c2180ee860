import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.base.js';

export default defineConfig(
  packageBuild([
    'src/index.ts',
    'src/node.ts',
    'src/lancedb.ts',
    'src/pgvector.ts',
    'src/hnswlib.ts',
    'src/losses.ts',
  ]),
);
