import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.base.js';

// The CLI is the entry; the shebang in src/cli.ts is kept.
export default defineConfig({ ...packageBuild(['src/cli.ts']), dts: false });
