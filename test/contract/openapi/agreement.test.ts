/**
 * The OpenAPI document's request schemas against the parsers that validate those requests
 * (functions/http/): each schema's example is accepted, and every violation the schema states for a
 * top-level field (a required field left out, another JSON type, past maxLength, below minLength or
 * minItems, outside its pattern, enum or const) is refused with a 400. A request body added to the
 * document without its parser here fails the test, so description and validation cannot drift apart.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { buildOpenApiDocument } from '../../../contract/openapi/document';
import type { JsonSchema } from '../../../contract/openapi/schemas';
import { isDomainError } from '../../../domain/errors';
import { parseRenameBody } from '../../../functions/http/conversation-requests';
import { parseKeyRequest } from '../../../functions/http/key-requests';
import { parseCompletionRequest } from '../../../functions/http/openai/requests';
import { parseChatRequest, parseStopRequest, parseStoreRequest } from '../../../functions/http/requests';

const LIMITS = { maxPromptChars: 500, maxStoredAnswerChars: 2_000, modelId: 'local-llm' };
const document = buildOpenApiDocument(LIMITS);
const schemas = document.components.schemas;

const event = (body: unknown, rawPath: string, method: string) =>
  ({
    body: JSON.stringify(body),
    headers: {},
    rawPath,
    requestContext: { http: { method } },
  }) as unknown as APIGatewayProxyEventV2;

/** Each request body of the document, by schema name, and the parser the function runs on it. */
const PARSERS: Record<string, (body: unknown) => unknown> = {
  ChatRequest: (body) => parseChatRequest(body, false, LIMITS),
  StoreRequest: (body) => parseStoreRequest(body, { ...LIMITS, maxAnswerChars: LIMITS.maxStoredAnswerChars }),
  StopRequest: (body) => parseStopRequest(body),
  RenameConversation: (body) => parseRenameBody(body),
  CreateApiKey: (body) => parseKeyRequest(event(body, '/chat/keys', 'POST'), 'POST'),
  ChatCompletionRequest: (body) =>
    parseCompletionRequest(event(body, '/v1/chat/completions', 'POST'), LIMITS),
};

function requestBodySchemas(): string[] {
  const names: string[] = [];
  for (const item of Object.values(document.paths) as Record<string, unknown>[]) {
    for (const operation of Object.values(item)) {
      const ref = (operation as { requestBody?: { content: Record<string, { schema: { $ref: string } }> } })
        .requestBody?.content['application/json']?.schema.$ref;
      if (ref) names.push(ref.replace('#/components/schemas/', ''));
    }
  }
  return names;
}

/** A value of another JSON type than the schema allows. */
function otherType(schema: JsonSchema): unknown {
  if ('const' in schema || 'enum' in schema) return '__neither__';
  // A nullable field (`["string", "null"]`): another type than its non-null one.
  const type = Array.isArray(schema.type) ? schema.type.find((name) => name !== 'null') : schema.type;
  switch (type) {
    case 'string':
      return 12345;
    case 'array':
    case 'object':
    case 'boolean':
    case 'integer':
    case 'number':
      return 'text';
    default:
      throw new Error(`no other type for ${JSON.stringify(schema)}`);
  }
}

/** The violations a field's schema states, each a value the parser must refuse. */
function violations(schema: JsonSchema): [string, unknown][] {
  const found: [string, unknown][] = [['another type', otherType(schema)]];
  if (typeof schema.maxLength === 'number') found.push(['past maxLength', 'a'.repeat(schema.maxLength + 1)]);
  if (schema.minLength === 1) found.push(['below minLength', '']);
  if (schema.minItems === 1) found.push(['below minItems', []]);
  if (typeof schema.pattern === 'string') {
    const pattern = new RegExp(schema.pattern, 'u');
    const outside = [' ', '!!', 'a b'].find((candidate) => !pattern.test(candidate));
    if (outside !== undefined) found.push(['outside its pattern', outside]);
  }
  if (Array.isArray(schema.enum)) found.push(['outside its enum', '__none_of_them__']);
  return found;
}

const refused = (parse: (body: unknown) => unknown, body: unknown): boolean => {
  try {
    parse(body);
    return false;
  } catch (error) {
    return isDomainError(error) && error.code === 'invalid_request';
  }
};

describe('the OpenAPI request schemas and the parsers', () => {
  it('have a parser for every request body the document describes', () => {
    expect(requestBodySchemas().sort()).toEqual(Object.keys(PARSERS).sort());
  });

  for (const [name, parse] of Object.entries(PARSERS)) {
    describe(name, () => {
      const schema = schemas[name] as JsonSchema & {
        properties: Record<string, JsonSchema>;
        required: string[];
        examples: Record<string, unknown>[];
      };
      const example = schema.examples[0] ?? {};

      it('accepts its example', () => {
        expect(() => parse(example)).not.toThrow();
      });

      it('refuses the example without each required field, and accepts it without an optional one', () => {
        for (const field of Object.keys(schema.properties)) {
          const { [field]: _left, ...without } = example;
          if (schema.required.includes(field)) expect(refused(parse, without), field).toBe(true);
          else expect(() => parse(without), field).not.toThrow();
        }
      });

      it('accepts each text field at its maxLength, so the schema is not stricter than the parser', () => {
        for (const [field, fieldSchema] of Object.entries(schema.properties)) {
          if (typeof fieldSchema.maxLength !== 'number') continue;
          expect(
            () => parse({ ...example, [field]: 'a'.repeat(fieldSchema.maxLength as number) }),
            field,
          ).not.toThrow();
        }
      });

      it('refuses every violation each field’s schema states', () => {
        for (const [field, fieldSchema] of Object.entries(schema.properties)) {
          for (const [violation, value] of violations(fieldSchema)) {
            expect(refused(parse, { ...example, [field]: value }), `${field}: ${violation}`).toBe(true);
          }
        }
      });
    });
  }
});
