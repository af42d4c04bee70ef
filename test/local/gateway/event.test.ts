import type { LambdaFunctionURLEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { handler as bufferedHandler } from './fixtures/buffered';
import { definition, rawRequest, useGateway } from './support';

const { start } = useGateway();

describe('startGateway', () => {
  describe('payload format 2.0 event', () => {
    it('passes method, paths, query, folded headers, cookies, text body and a Lambda-like context', async () => {
      // Prepare
      const gw = await start([
        { definition: definition('Echo', '/echo', false, 7), handler: bufferedHandler },
      ]);

      // Act
      const res = await rawRequest(`${gw.url}/echo?a=1&b=two%20words&a=3`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-dup': ['one', 'two'],
          'X-Mixed-Case': 'yes',
          cookie: 'c1=v1; c2=v2',
          'user-agent': 'gateway-test',
        },
        body: '{"hello":"world"}',
      });

      // Assess
      expect(res.status).toBe(200);
      const { event, context } = JSON.parse(res.body.toString()) as {
        event: LambdaFunctionURLEvent;
        context: Record<string, unknown>;
      };
      expect(event).toMatchObject({
        version: '2.0',
        routeKey: '$default',
        rawPath: '/echo',
        rawQueryString: 'a=1&b=two%20words&a=3',
        queryStringParameters: { a: '1,3', b: 'two words' },
        cookies: ['c1=v1', 'c2=v2'],
        body: '{"hello":"world"}',
        isBase64Encoded: false,
        requestContext: {
          accountId: 'anonymous',
          routeKey: '$default',
          stage: '$default',
          http: {
            method: 'POST',
            path: '/echo',
            protocol: 'HTTP/1.1',
            sourceIp: '127.0.0.1',
            userAgent: 'gateway-test',
          },
        },
      });
      expect(event.headers['x-dup']).toBe('one,two');
      expect(event.headers['x-mixed-case']).toBe('yes');
      expect(event.headers.cookie).toBeUndefined();
      expect(event.headers['x-forwarded-for']).toBe('127.0.0.1');
      expect(event.requestContext.domainName).toBe(`127.0.0.1:${gw.port}`);
      expect(event.requestContext.time).toMatch(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
      expect(typeof event.requestContext.timeEpoch).toBe('number');
      expect(context).toMatchObject({
        functionName: 'Echo',
        awsRequestId: event.requestContext.requestId,
        memoryLimitInMB: '128',
      });
      expect(context.remainingMs).toBeGreaterThan(0);
      expect(context.remainingMs).toBeLessThanOrEqual(7000);
      expect(res.headers['x-amzn-requestid']).toBe(event.requestContext.requestId);
    });

    it('base64-encodes a binary body and omits absent optional fields', async () => {
      // Prepare
      const gw = await start([{ definition: definition('Echo', '/echo', false), handler: bufferedHandler }]);

      // Act
      const res = await fetch(`${gw.url}/echo`, {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream' },
        body: new Uint8Array([0, 1, 2, 255]),
      });

      // Assess
      const { event } = (await res.json()) as { event: LambdaFunctionURLEvent };
      expect(event.isBase64Encoded).toBe(true);
      expect(event.body).toBe('AAEC/w==');
      expect(event.rawQueryString).toBe('');
      expect(event.queryStringParameters).toBeUndefined();
      expect(event.cookies).toBeUndefined();
    });
  });
});
