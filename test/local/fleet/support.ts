/** Shared by the simulated server's tests: starting servers fast, speaking to them, reading /metrics. */
import OpenAI from 'openai';
import { expect } from 'vitest';
import {
  type SimulatedServerHandle,
  type SimulatedServerOptions,
  startSimulatedServer,
} from '../../../local/fleet/server';

// Fast settings: tests assert behaviour (order, counts, states), never durations.
export const FAST: SimulatedServerOptions = {
  timeToFirstTokenMs: 0,
  tokensPerSecond: 5000,
  answerTokens: 20,
};
export const PROMPT = 'How should I water tomato plants during a hot summer?';

const servers: SimulatedServerHandle[] = [];

/** Closes every server `start` started: call it in afterEach. */
export async function closeServers(): Promise<void> {
  await Promise.all(servers.splice(0).map((server) => server.close()));
}

export async function start(options: SimulatedServerOptions = {}): Promise<SimulatedServerHandle> {
  const server = await startSimulatedServer({ ...FAST, ...options });
  servers.push(server);
  return server;
}

export function clientFor(server: SimulatedServerHandle): OpenAI {
  return new OpenAI({ apiKey: 'local', baseURL: `${server.baseUrl}/v1`, maxRetries: 0 });
}

/** Polls a condition on the next turns of the event loop (the test timeout bounds it). */
export async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 2));
}

export function postChat(
  server: SimulatedServerHandle,
  body: unknown,
  init: RequestInit = {},
): Promise<Response> {
  return fetch(`${server.baseUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...init,
  });
}

export function chatBody(extra: Record<string, unknown> = {}) {
  return { model: 'local-llm', messages: [{ role: 'user', content: PROMPT }], ...extra };
}

export function expectOpenAiError(body: unknown) {
  expect(body).toEqual({
    error: {
      message: expect.any(String),
      type: expect.any(String),
      param: expect.toSatisfy((value: unknown) => value === null || typeof value === 'string'),
      code: expect.toSatisfy(
        (value: unknown) => value === null || ['string', 'number'].includes(typeof value),
      ),
    },
  });
}

// A strict reader of the Prometheus text format 0.0.4, written from the format's rules (not from the server).
export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
export function parsePrometheus(text: string): { types: Map<string, string>; samples: PromSample[] } {
  const types = new Map<string, string>();
  const helps = new Set<string>();
  const samples: PromSample[] = [];
  const metricName = '[a-zA-Z_:][a-zA-Z0-9_:]*';
  const sampleLine = new RegExp(`^(${metricName})(?:\\{(.*)\\})? (\\S+)$`);
  const labelPair = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/;
  expect(text.endsWith('\n')).toBe(true);
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      const meta = new RegExp(`^# (HELP|TYPE) (${metricName}) (.*)$`).exec(line);
      if (!meta) throw new Error(`bad comment line: ${line}`);
      const [, kind, name = '', rest = ''] = meta;
      if (kind === 'HELP') helps.add(name);
      else {
        expect(['counter', 'gauge', 'histogram', 'summary', 'untyped']).toContain(rest);
        expect(types.has(name)).toBe(false);
        types.set(name, rest);
      }
      continue;
    }
    const match = sampleLine.exec(line);
    if (!match) throw new Error(`bad sample line: ${line}`);
    const [, name = '', rawLabels = '', rawValue = ''] = match;
    const labels: Record<string, string> = {};
    let rest = rawLabels;
    while (rest !== '') {
      const pair = labelPair.exec(rest);
      if (!pair) throw new Error(`bad labels: ${rawLabels}`);
      labels[pair[1] ?? ''] = (pair[2] ?? '').replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
      rest = rest.slice(pair[0].length);
    }
    const value = rawValue === '+Inf' ? Number.POSITIVE_INFINITY : Number(rawValue);
    if (rawValue !== 'NaN' && Number.isNaN(value)) throw new Error(`bad value: ${line}`);
    const family = [name, name.replace(/_(bucket|sum|count)$/, '')].find((candidate) => types.has(candidate));
    if (family === undefined) throw new Error(`sample before its TYPE line: ${line}`);
    expect(helps.has(family)).toBe(true);
    samples.push({ name, labels, value });
  }
  return { types, samples };
}

export function metricValue(samples: PromSample[], name: string): number {
  const found = samples.filter((sample) => sample.name === name);
  expect(found.length).toBeGreaterThan(0);
  for (const sample of found) expect(sample.labels.model_name).toBe('local-llm');
  return found.reduce((sum, sample) => sum + sample.value, 0);
}

export async function scrape(server: SimulatedServerHandle) {
  const response = await fetch(`${server.baseUrl}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
  return parsePrometheus(await response.text());
}
