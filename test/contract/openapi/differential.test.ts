/**
 * Each request schema of the OpenAPI document and the parser that validates that request, held to the
 * same verdict on the same bodies: every example, and every variant of one made by deleting a field or
 * putting another value (null, numbers, strings, booleans, an empty list or object, a long text) at any
 * depth. The schema is compiled by Ajv (JSON Schema 2020-12, OpenAPI 3.1's dialect). Rules a schema cannot
 * state are listed in GAPS, each with why; a disagreement not listed fails, so neither side drifts.
 */

import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { buildOpenApiDocument } from '../../../contract/openapi/document';
import { isDomainError } from '../../../domain/errors';
import { parseRenameBody } from '../../../functions/http/conversation-requests';
import { parseKeyRequest } from '../../../functions/http/key-requests';
import { parseCompletionRequest } from '../../../functions/http/openai/requests';
import { parseChatRequest, parseStopRequest, parseStoreRequest } from '../../../functions/http/requests';

const LIMITS = { maxPromptChars: 500, maxStoredAnswerChars: 2_000, modelId: 'local-llm' };
const document = JSON.parse(JSON.stringify(buildOpenApiDocument(LIMITS))) as {
  components: { schemas: Record<string, { examples?: unknown[] }> };
};

const event = (body: unknown, rawPath: string) =>
  ({
    body: JSON.stringify(body),
    headers: {},
    rawPath,
    requestContext: { http: { method: 'POST' } },
  }) as unknown as APIGatewayProxyEventV2;

const PARSERS: Record<string, (body: unknown) => unknown> = {
  ChatRequest: (body) => parseChatRequest(body, false, LIMITS),
  StoreRequest: (body) => parseStoreRequest(body, { ...LIMITS, maxAnswerChars: LIMITS.maxStoredAnswerChars }),
  StopRequest: (body) => parseStopRequest(body),
  RenameConversation: (body) => parseRenameBody(body),
  CreateApiKey: (body) => parseKeyRequest(event(body, '/chat/keys'), 'POST'),
  ChatCompletionRequest: (body) => parseCompletionRequest(event(body, '/v1/chat/completions'), LIMITS),
};

/**
 * Rules that only the parser holds, by variant: a schema states each value on its own, not one message's
 * length by its place in the list, nor text that is empty once its parts are joined.
 */
const GAPS: Record<string, string> = {
  'ChatCompletionRequest messages.0.content = a long text':
    'only the last message (the prompt) is capped at MAX_PROMPT_CHARS, as the description says',
  'ChatCompletionRequest messages.3.content = a long text':
    'only the last message (the prompt) is capped at MAX_PROMPT_CHARS, as the description says',
  'ChatCompletionRequest messages.1.content.0.text = ""':
    'text parts that join to blank text are refused, as the description says; each part alone may be blank',
  'ChatCompletionRequest messages.1.content.0.text = " "':
    'text parts that join to blank text are refused, as the description says; each part alone may be blank',
};

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema({ $id: 'openapi', components: document.components });

/** What the parser says: accepted, or refused as a bad request (404 for an unknown model is a valid shape). */
function parserAccepts(parse: (body: unknown) => unknown, body: unknown): boolean {
  try {
    parse(body);
    return true;
  } catch (error) {
    if (isDomainError(error) && error.code === 'not_found') return true;
    if (isDomainError(error) && error.code === 'invalid_request') return false;
    throw error;
  }
}

const REPLACEMENTS: [string, unknown][] = [
  ['null', null],
  ['0', 0],
  ['-1', -1],
  ['1.5', 1.5],
  ['"x"', 'x'],
  ['""', ''],
  ['" "', ' '],
  ['true', true],
  ['[]', []],
  ['{}', {}],
  ['a long text', 'a'.repeat(LIMITS.maxStoredAnswerChars + 1)],
];

/** Every variant of `value`: each field deleted, each value replaced, at every depth. */
function* variants(value: unknown, path: string[] = []): Generator<[string, unknown]> {
  const at = path.join('.');
  if (path.length > 0) for (const [label, other] of REPLACEMENTS) yield [`${at} = ${label}`, other];
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      for (const [label, other] of variants(item, [...path, String(index)])) {
        yield [label, value.map((kept, i) => (i === index ? other : kept))];
      }
    }
  } else if (typeof value === 'object' && value !== null) {
    for (const [field, item] of Object.entries(value)) {
      const { [field]: _deleted, ...without } = value as Record<string, unknown>;
      yield [`${[...path, field].join('.')} deleted`, without];
      for (const [label, other] of variants(item, [...path, field]))
        yield [label, { ...value, [field]: other }];
    }
  }
}

/** Where the schema and the parser differ on the examples of `name` and their variants. */
function disagreements(name: string, parse: (body: unknown) => unknown): { found: string[]; bodies: number } {
  const validate = ajv.getSchema(`openapi#/components/schemas/${name}`);
  if (!validate) throw new Error(`no schema ${name}`);
  const found = new Set<string>();
  let bodies = 0;
  for (const example of document.components.schemas[name]?.examples ?? []) {
    if (validate(example) !== true || !parserAccepts(parse, example)) found.add(`${name} example`);
    for (const [label, body] of variants(example)) {
      bodies++;
      const schemaSays = validate(body) === true;
      if (schemaSays !== parserAccepts(parse, body)) found.add(`${name} ${label}`);
    }
  }
  return { found: [...found], bodies };
}

describe('the request schemas and their parsers agree', () => {
  for (const [name, parse] of Object.entries(PARSERS)) {
    it(`${name}: on its examples and every variant of them`, () => {
      const { found, bodies } = disagreements(name, parse);
      expect(found.filter((disagreement) => !(disagreement in GAPS))).toEqual([]);
      expect(bodies).toBeGreaterThan(10);
    });
  }

  it('lists only gaps that still exist, so the list cannot excuse a later drift', () => {
    const found = Object.entries(PARSERS).flatMap(([name, parse]) => disagreements(name, parse).found);
    expect(Object.keys(GAPS).filter((gap) => !found.includes(gap))).toEqual([]);
  });
});
