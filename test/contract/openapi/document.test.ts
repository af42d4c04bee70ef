/**
 * GET /openapi.json's document: valid OpenAPI 3.1 by @seriousme/openapi-schema-validator (the official
 * 3.1 JSON Schema), and by the rules that schema cannot state: unique operation ids, every `$ref`
 * resolving, path templates declared as parameters. And against the routes: every path pattern and
 * method lib/resources.ts serves (what the gateway and CloudFront route) is described, and nothing else.
 */
import { Validator } from '@seriousme/openapi-schema-validator';
import { describe, expect, it } from 'vitest';
import { buildOpenApiDocument } from '../../../contract/openapi/document';
import { routeMethods, routePaths, routes } from '../../../lib/resources';

const document = JSON.parse(
  JSON.stringify(
    buildOpenApiDocument({ maxPromptChars: 32_000, maxStoredAnswerChars: 100_000, modelId: 'local-llm' }),
  ),
) as Record<string, unknown>;

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
const paths = document.paths as Record<string, Json>;

/** The gateway's own route besides lib/resources.ts (local/stack.ts; S3 on AWS). */
const GATEWAY_ROUTES = [{ path: '/config.json', methods: ['get'] }];

function resolvePointer(pointer: string): unknown {
  if (!pointer.startsWith('#/')) return undefined;
  let node: unknown = document;
  for (const part of pointer.slice(2).split('/')) {
    const key = part.replaceAll('~1', '/').replaceAll('~0', '~');
    node = isObject(node) ? node[key] : undefined;
  }
  return node;
}

function refsIn(node: unknown, found: string[] = []): string[] {
  if (Array.isArray(node)) for (const item of node) refsIn(item, found);
  else if (isObject(node)) {
    if (typeof node.$ref === 'string') found.push(node.$ref);
    for (const value of Object.values(node)) refsIn(value, found);
  }
  return found;
}

const operations = () =>
  Object.entries(paths).flatMap(([path, item]) =>
    METHODS.filter((method) => isObject(item[method])).map((method) => ({
      path,
      method,
      item,
      operation: item[method] as Json,
    })),
  );

/** A CloudFront pattern as an OpenAPI path: `/chat/conversations/*` is `/chat/conversations/{id}`. */
const asOpenApiPath = (pattern: string) => (pattern.endsWith('/*') ? `${pattern.slice(0, -1)}{id}` : pattern);

describe('the OpenAPI document', () => {
  it('passes an OpenAPI 3.1 validator, which refuses it once a required part is gone', async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(document));
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
    // The validator can fail: a response without its required description is refused.
    const broken = structuredClone(document) as { paths: Record<string, Record<string, Json>> };
    const [firstPath] = Object.keys(broken.paths);
    const operation = Object.values(broken.paths[firstPath ?? ''] ?? {}).find(isObject) as
      | { responses: Record<string, Json> }
      | undefined;
    for (const response of Object.values(operation?.responses ?? {})) delete response.description;
    expect((await new Validator().validate(broken)).valid).toBe(false);
  });

  it('is OpenAPI 3.1 with an info object and components', () => {
    expect(document.openapi).toMatch(/^3\.1\.\d+$/);
    expect(document.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
    expect(isObject(document.components)).toBe(true);
  });

  it('has paths starting with "/", each with at least one operation, each answering described responses', () => {
    expect(Object.keys(paths).length).toBeGreaterThan(0);
    for (const [path, item] of Object.entries(paths)) {
      expect(path.startsWith('/'), path).toBe(true);
      expect(
        METHODS.some((method) => isObject(item[method])),
        path,
      ).toBe(true);
    }
    for (const { path, method, operation } of operations()) {
      const responses = operation.responses;
      expect(isObject(responses) && Object.keys(responses).length > 0, `${method} ${path}`).toBe(true);
      for (const [status, response] of Object.entries(responses as Json)) {
        expect(/^([1-5]\d\d|[1-5]XX|default)$/.test(status), `${method} ${path} ${status}`).toBe(true);
        const resolved =
          isObject(response) && typeof response.$ref === 'string' ? resolvePointer(response.$ref) : response;
        expect(
          isObject(resolved) && typeof resolved.description === 'string',
          `${method} ${path} ${status}`,
        ).toBe(true);
      }
    }
  });

  it('gives every operation a unique operationId', () => {
    const ids = operations().map(({ operation }) => operation.operationId);
    expect(ids.every((id) => typeof id === 'string')).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('resolves every $ref', () => {
    const refs = refsIn(document);
    expect(refs.length).toBeGreaterThan(20);
    for (const ref of refs) expect(resolvePointer(ref), ref).toBeDefined();
  });

  it('declares every path template as a required path parameter', () => {
    for (const { path, item, operation } of operations()) {
      const templates = [...path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]);
      const declared = [
        ...((item.parameters as unknown[]) ?? []),
        ...((operation.parameters as unknown[]) ?? []),
      ]
        .map((parameter) =>
          isObject(parameter) && typeof parameter.$ref === 'string'
            ? resolvePointer(parameter.$ref)
            : parameter,
        )
        .filter((parameter): parameter is Json => isObject(parameter) && parameter.in === 'path');
      for (const name of templates) {
        expect(declared.find((parameter) => parameter.name === name)?.required, `${path} {${name}}`).toBe(
          true,
        );
      }
    }
  });

  it('describes every route the gateway serves, each with its methods, and no route it does not serve', () => {
    const served = [
      ...routes.flatMap((route) =>
        routePaths(route).map((pattern) => ({
          path: asOpenApiPath(pattern),
          methods: routeMethods(route).map((m) => m.toLowerCase()),
        })),
      ),
      ...GATEWAY_ROUTES,
    ];
    // Every served path is described, with operations only for methods its function serves.
    for (const { path, methods } of served) {
      const item = paths[path];
      expect(item, `${path} is not in the OpenAPI document`).toBeDefined();
      const described = METHODS.filter((method) => isObject(item?.[method]));
      expect(described.length, path).toBeGreaterThan(0);
      for (const method of described) expect(methods, `${method} ${path}`).toContain(method);
    }
    // Every method a function serves is described on one of its paths.
    for (const route of routes) {
      const described = routePaths(route).flatMap((pattern) =>
        METHODS.filter((method) => isObject(paths[asOpenApiPath(pattern)]?.[method])),
      );
      for (const method of routeMethods(route)) expect(described, route.id).toContain(method.toLowerCase());
    }
    // And nothing is described that nobody serves.
    expect(Object.keys(paths).sort()).toEqual([...new Set(served.map((entry) => entry.path))].sort());
  });
});
