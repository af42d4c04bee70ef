import middy from '@middy/core';
import { buildOpenApiDocument } from '../contract/openapi/document';
import { logger, withLogging } from './commons/logger';
import { errorResult, type HttpEvent, type HttpResult, requireMethod } from './http/event';
import { inRequestLogScope } from './http/middleware';
import { originRefusal } from './http/origin-guard';
import { settings } from './settings';
import { awsInfrastructure } from './wiring/infrastructure';
import { createOriginGuard } from './wiring/origin';

/** Built once per container, from the deployment's limits. */
const document = JSON.stringify(
  buildOpenApiDocument({
    maxPromptChars: settings.maxPromptChars,
    maxStoredAnswerChars: settings.maxStoredAnswerChars,
    modelId: settings.modelId,
  }),
);
const origin = createOriginGuard(settings, awsInfrastructure());

/** GET /openapi.json: the API's description. Public, like documentation: no caller is needed. */
export const getOpenApi = async (event: HttpEvent): Promise<HttpResult> => {
  try {
    const refused = await originRefusal(origin, event, logger);
    if (refused) return refused;
    requireMethod(event, 'GET');
    return {
      statusCode: 200,
      headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'public, max-age=300' },
      body: document,
    };
  } catch (error) {
    return errorResult(error, logger);
  }
};

export const handler = middy<HttpEvent, HttpResult>()
  .use(withLogging())
  .handler(inRequestLogScope(getOpenApi));
