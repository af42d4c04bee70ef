/**
 * One streamed request, read as lean as the load generator can (it shares two cores with what it
 * measures): frames are looked at only until the first content one, then only a short tail is kept to
 * read the token count (`completion_tokens`) and whether the stream ended cleanly.
 */
import { Agent, request } from 'node:http';

export interface StreamTarget {
  /** Where to send: `http://host:port/path`. */
  readonly url: (index: number) => URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: (index: number) => string;
  /** True for the `data:` payload of a frame (no `event:` line) that carries content. */
  readonly isContent: (data: string) => boolean;
  /** The tail of a stream that ended as it should (`[DONE]`, no error event). */
  readonly endedCleanly: (tail: string) => boolean;
}

export interface StreamResult {
  readonly status: number;
  /** Request written → first content frame read (ms); undefined when none came. */
  readonly firstContentMs?: number;
  /** `completion_tokens` the stream reported at its end (0 when it did not). */
  readonly tokens: number;
  /** 200, content, and a clean end. */
  readonly ok: boolean;
}

const TAIL_CHARS = 2_000;
const agent = new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });

function lastTokenCount(tail: string): number {
  const matches = [...tail.matchAll(/"completion_tokens":(\d+)/g)];
  return Number(matches.at(-1)?.[1] ?? 0);
}

/** The `data:` of every complete frame in `text` that has no `event:` line, and the unparsed rest. */
function dataFrames(text: string): { data: string[]; rest: string } {
  const data: string[] = [];
  let start = 0;
  for (let end = text.indexOf('\n\n', start); end >= 0; end = text.indexOf('\n\n', start)) {
    const frame = text.slice(start, end);
    start = end + 2;
    if (frame.startsWith('data: ')) data.push(frame.slice(6));
  }
  return { data, rest: text.slice(start) };
}

export function runStream(target: StreamTarget, index: number): Promise<StreamResult> {
  return new Promise((resolveResult) => {
    const url = target.url(index);
    const body = target.body(index);
    const sentAt = performance.now();
    let firstContentMs: number | undefined;
    let status = 0;
    let head = '';
    let tail = '';
    const finish = (ok: boolean) =>
      resolveResult({
        status,
        ...(firstContentMs === undefined ? {} : { firstContentMs }),
        tokens: lastTokenCount(tail),
        ok: ok && firstContentMs !== undefined,
      });
    const req = request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        path: `${url.pathname}${url.search}`,
        method: 'POST',
        headers: { ...target.headers, 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        status = res.statusCode ?? 0;
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (firstContentMs === undefined) {
            const { data, rest } = dataFrames(head + chunk);
            head = rest;
            if (data.some(target.isContent)) firstContentMs = performance.now() - sentAt;
          }
          tail = (tail + chunk).slice(-TAIL_CHARS);
        });
        res.on('end', () => finish(status === 200 && target.endedCleanly(tail)));
        res.on('error', () => finish(false));
      },
    );
    req.on('error', () => finish(false));
    req.end(body);
  });
}
