/**
 * Builds the web client: web/src/main.ts and web/styles.css (whose @imports of web/styles/ esbuild
 * inlines in order), bundled and minified by esbuild, plus index.html, into web/dist/ (git-ignored).
 * The output folder is self-contained — serve it (or upload it) as the site root. web/index.html
 * points at ./dist/ so that serving web/ itself also works.
 *
 * `node --import tsx web/build.ts` builds once and prints the shipped size.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
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
}

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
  return { dir: WEB_DIST_DIR, bytes, gzipBytes, files };
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
      `${name.padEnd(12)} ${String(size.bytes).padStart(7)} B  ${size.gzipBytes} B gzip\n`,
    );
  }
  process.stdout.write(`web/dist: ${built.bytes} B, ${built.gzipBytes} B gzipped, built in ${ms} ms\n`);
}
