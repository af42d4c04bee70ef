/** Files served for GET/HEAD paths no route claims (the web client), kept inside their root. */
import { readFile, stat } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { extname, resolve, sep } from 'node:path';

const STATIC_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

export async function serveStatic(
  root: string,
  rawPath: string,
  method: string,
  res: ServerResponse,
  /** Sent with every file (the security headers CloudFront adds on AWS). */
  headers: Readonly<Record<string, string>> = {},
): Promise<boolean> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    return false;
  }
  const relative = decoded.endsWith('/') ? `${decoded}index.html` : decoded;
  const file = resolve(root, `.${relative}`);
  if (file !== root && !file.startsWith(`${root}${sep}`)) return false;
  try {
    const info = await stat(file);
    if (!info.isFile()) return false;
    const content = await readFile(file);
    res.writeHead(200, {
      ...headers,
      'content-type': STATIC_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
      'content-length': String(content.length),
      'cache-control': 'no-store',
    });
    res.end(method === 'HEAD' ? undefined : content);
    return true;
  } catch {
    return false;
  }
}
