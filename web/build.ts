/**
 * Builds the web client: web/src/main.ts and web/styles.css (whose @imports of web/styles/ esbuild
 * inlines in order), bundled and minified by esbuild, plus index.html, into web/dist/ (git-ignored).
 * The output folder is self-contained — serve it (or upload it) as the site root. web/index.html
 * points at ./dist/ so that serving web/ itself also works.
 *
 * The syntax highlighter is a separate chunk (code splitting), loaded on the first code block: the
 * first-load JavaScript is app.js and the chunks it imports statically (`firstLoadJsGzipBytes`).
 *
 * `node --import tsx web/build.ts` builds once and prints the shipped size.
 */
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

/** This file lives in web/: the web folder is its own, the project root one up. */
export const WEB_DIR = dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = join(WEB_DIR, '..');
export const WEB_DIST_DIR = join(WEB_DIR, 'dist');

export interface WebBuild {
  /** The folder to serve at `/`. */
  readonly dir: string;
  /** Bytes of index.html + app.js + app.css as shipped. */
  readonly bytes: number;
  /** The same, each file gzipped (what travels with Content-Encoding: gzip). */
  readonly gzipBytes: number;
  readonly files: Readonly<Record<string, { bytes: number; gzipBytes: number }>>;
  /** Gzipped bytes of the JavaScript a first page load runs: app.js and its static imports. */
  readonly firstLoadJsGzipBytes: number;
}

/** The first-load JavaScript must stay within this, gzipped (issue 13's budget). */
export const FIRST_LOAD_JS_BUDGET_GZIP_BYTES = 60 * 1024;

export async function buildWeb(): Promise<WebBuild> {
  await mkdir(WEB_DIST_DIR, { recursive: true });
  const result = await build({
    absWorkingDir: REPO_ROOT,
    entryPoints: { app: join(WEB_DIR, 'src', 'main.ts') },
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['es2022', 'chrome110', 'firefox115', 'safari16'],
    outdir: WEB_DIST_DIR,
    splitting: true,
    chunkNames: '[name]-[hash]',
    metafile: true,
    write: false,
    legalComments: 'none',
    logLevel: 'silent',
  });
  const css = await build({
    absWorkingDir: REPO_ROOT,
    entryPoints: { app: join(WEB_DIR, 'styles.css') },
    bundle: true,
    minify: true,
    target: ['chrome110', 'firefox115', 'safari16'],
    outdir: WEB_DIST_DIR,
    write: false,
    logLevel: 'silent',
  });
  const html = minifyHtml((await readFile(join(WEB_DIR, 'index.html'), 'utf8')).replaceAll('./dist/', './'));
  const outputs = new Map<string, Uint8Array>([['index.html', new TextEncoder().encode(html)]]);
  for (const file of [...result.outputFiles, ...css.outputFiles]) {
    outputs.set(file.path.slice(WEB_DIST_DIR.length + 1), file.contents);
  }
  // Chunks of earlier builds (their names carry a hash) are not served stale.
  for (const name of await readdir(WEB_DIST_DIR)) {
    if (!outputs.has(name)) await rm(join(WEB_DIST_DIR, name), { recursive: true, force: true });
  }
  const files: Record<string, { bytes: number; gzipBytes: number }> = {};
  let bytes = 0;
  let gzipBytes = 0;
  for (const [name, contents] of outputs) {
    await writeFile(join(WEB_DIST_DIR, name), contents);
    const gz = gzipSync(contents, { level: 9 }).length;
    files[name] = { bytes: contents.length, gzipBytes: gz };
    bytes += contents.length;
    gzipBytes += gz;
  }
  const firstLoad = staticClosure(result.metafile.outputs, 'app.js');
  const firstLoadJsGzipBytes = [...firstLoad].reduce((sum, name) => sum + (files[name]?.gzipBytes ?? 0), 0);
  return { dir: WEB_DIST_DIR, bytes, gzipBytes, files, firstLoadJsGzipBytes };
}

/** `entry` and every output it imports statically, transitively (dynamic imports load later). */
function staticClosure(
  outputs: Readonly<Record<string, { imports: readonly { path: string; kind: string }[] }>>,
  entry: string,
): Set<string> {
  const byName = new Map(
    Object.entries(outputs).map(([path, output]) => [path.split('/').pop() ?? path, output]),
  );
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name)) return;
    seen.add(name);
    for (const imported of byName.get(name)?.imports ?? []) {
      if (imported.kind === 'import-statement') visit(imported.path.split('/').pop() ?? imported.path);
    }
  };
  visit(entry);
  return seen;
}

/** Whitespace between tags and runs of blanks only: the page has no <pre> or inline text that cares. */
function minifyHtml(html: string): string {
  return html
    .replace(/>\s+</g, '><')
    .replace(/\s{2,}/g, ' ')
    .trim();
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const started = performance.now();
  const built = await buildWeb();
  const ms = Math.round(performance.now() - started);
  for (const [name, size] of Object.entries(built.files)) {
    process.stdout.write(
      `${name.padEnd(24)} ${String(size.bytes).padStart(7)} B  ${size.gzipBytes} B gzip\n`,
    );
  }
  process.stdout.write(`web/dist: ${built.bytes} B, ${built.gzipBytes} B gzipped, built in ${ms} ms\n`);
  process.stdout.write(
    `first-load JS: ${built.firstLoadJsGzipBytes} B gzipped (budget ${FIRST_LOAD_JS_BUDGET_GZIP_BYTES} B)\n`,
  );
}
