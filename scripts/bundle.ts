// The installed command's code: src/cli/main.ts and the libraries it loads, bundled by esbuild into
// dist/bundle/ (bin/ldapsync.js runs it). One file a command path instead of some 400 modules cuts each
// process's start by about 0.2 s (`ldapsync status`: 0.49 -> 0.29 s here), and a CLI sync is a process.
// Each command's module stays a chunk of its own, loaded when that command runs, as in the source.
import { build, type Plugin } from 'esbuild';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import standaloneCode from 'ajv/dist/standalone/index.js';
import { compileSchemaValidator } from '../src/config/schema-validation.js';
import { makeTemplate, templateFile } from '../src/store/pglite-template.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = `${root}dist/bundle`;

/** Replaces src/config/precompiled-validator.ts with ajv's code for the config schema (see there). */
const precompiledValidator: Plugin = {
  name: 'precompiled-validator',
  setup(plugin) {
    plugin.onLoad({ filter: /[\\/]src[\\/]config[\\/]precompiled-validator\.ts$/ }, () => {
      const { ajv, validate } = compileSchemaValidator({ source: true });
      // The standalone module exports `validate`.
      return { contents: `${standaloneCode.default(ajv, validate)}\nexport const precompiledValidator = validate;\n`, loader: 'js', resolveDir: `${root}src/config` };
    });
  },
};

await rm(outdir, { recursive: true, force: true });
await build({
  entryPoints: [`${root}src/cli/main.ts`],
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  plugins: [precompiledValidator],
  // Loaded at run time from node_modules: PGlite reads its WebAssembly and data files beside its own code,
  // tsx (for TypeScript hook modules) its loader files, and pino-pretty goes through createRequire.
  external: ['@electric-sql/pglite', 'tsx', 'pino-pretty'],
  // The bundled CommonJS libraries (pg, pino, ...) call require for Node's own modules.
  banner: { js: "import { createRequire as __ldapsyncRequire } from 'node:module'; const require = __ldapsyncRequire(import.meta.url);" },
  logLevel: 'warning',
});

// The data directory a new embedded store starts from (see src/store/pglite-template.ts), made once per PGlite version.
const template = templateFile();
if (template !== undefined && !existsSync(template)) await makeTemplate(template);
