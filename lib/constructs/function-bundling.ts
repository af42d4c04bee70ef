/**
 * How every Lambda function is bundled, defined once. AppFunction hands FUNCTION_BUNDLING to CDK's
 * NodejsFunction; bench/cold-start.ts and the bundle size test run esbuild with functionEsbuildOptions,
 * the options CDK's esbuild command line carries for these settings (aws-lambda-nodejs Bundling's
 * buildEsbuildArgs: --platform=node, index.mjs for ESM, no --external since the AWS SDK is bundled,
 * run in the project root).
 */
import { type BundlingOptions, OutputFormat, SourceMapMode } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { BuildOptions } from 'esbuild';

/**
 * ESM bundles have no `require`; some CommonJS dependencies inlined by esbuild still call it
 * (e.g. for Node built-ins). Recreate it from `import.meta.url` at the top of the bundle.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __appCreateRequire } from 'node:module'; const require = __appCreateRequire(import.meta.url);";

/**
 * Modules replaced in the Lambda bundles, each by what answers on Lambda:
 * - the AWS SDK's default credential chain by the environment alone (functions/commons/env-credentials.ts;
 *   it took PostChat from 476 to 343 KB);
 * - `node:http` by the same module loaded with `require` (functions/commons/node-http.ts), so importing it
 *   does not load undici (~10 ms of PostChat's module init).
 */
const BUNDLE_ALIASES: Readonly<Record<string, string>> = {
  '@aws-sdk/credential-provider-node': './functions/commons/env-credentials.ts',
  http: './functions/commons/node-http.ts',
  'node:http': './functions/commons/node-http.ts',
};

/** NODE_OPTIONS of every function: stack traces through the bundle's source map. */
export const FUNCTION_NODE_OPTIONS = '--enable-source-maps';

export const FUNCTION_BUNDLING = {
  forceDockerBundling: false,
  format: OutputFormat.ESM,
  target: 'node24',
  // Prefer the ES module builds of dependencies (the AWS SDK ships both): better tree shaking.
  mainFields: ['module', 'main'],
  banner: ESM_REQUIRE_BANNER,
  minify: true,
  sourceMap: true,
  sourceMapMode: SourceMapMode.DEFAULT,
  // Stack traces need file and line mappings, not the original sources: keeps the .map small.
  sourcesContent: false,
  // The AWS SDK is bundled, not taken from the runtime: the versions pinned in package-lock.json
  // are the ones the tests ran against, and a runtime SDK update cannot change behaviour under
  // us. Cost: a larger bundle and a little more cold-start parse time, kept down by tree shaking.
  bundleAwsSDK: true,
  // esbuild's --alias:<module>=<path>, one flag per module.
  esbuildArgs: Object.fromEntries(
    Object.entries(BUNDLE_ALIASES).map(([from, to]) => [`--alias:${from}`, to]),
  ),
} as const satisfies BundlingOptions;

/** The options translated below; one added to FUNCTION_BUNDLING without a translation fails loudly. */
const TRANSLATED: ReadonlySet<string> = new Set([
  'forceDockerBundling',
  'format',
  'target',
  'mainFields',
  'banner',
  'minify',
  'sourceMap',
  'sourceMapMode',
  'sourcesContent',
  'bundleAwsSDK',
  'esbuildArgs',
]);

/**
 * esbuild's options for bundling `entry` (relative to `projectRoot`, as in lib/resources.ts) into
 * `outfile` (name it index.mjs, as CDK does) the way CDK does.
 */
export function functionEsbuildOptions(projectRoot: string, entry: string, outfile: string): BuildOptions {
  const untranslated = Object.keys(FUNCTION_BUNDLING).filter((key) => !TRANSLATED.has(key));
  if (untranslated.length > 0) throw new Error(`No esbuild translation for ${untranslated.join(', ')}`);
  return {
    absWorkingDir: projectRoot,
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    target: FUNCTION_BUNDLING.target,
    format: FUNCTION_BUNDLING.format,
    mainFields: [...FUNCTION_BUNDLING.mainFields],
    banner: { js: FUNCTION_BUNDLING.banner },
    minify: FUNCTION_BUNDLING.minify,
    // sourceMapMode DEFAULT is esbuild's plain --sourcemap: a linked .map file.
    sourcemap: FUNCTION_BUNDLING.sourceMap,
    sourcesContent: FUNCTION_BUNDLING.sourcesContent,
    // bundleAwsSDK: nothing is external.
    alias: { ...BUNDLE_ALIASES },
    logLevel: 'warning',
  };
}
