import { logger } from './commons/logger';
import { json } from './http/event';
import { httpHandler } from './http/handler';
import { openAiErrorResult } from './http/openai/errors';
import { modelList } from './http/openai/models';
import { settings } from './settings';
import { createKeyOrTokenAuthenticator } from './wiring/api-keys';
import { awsInfrastructure } from './wiring/infrastructure';
import { createOriginGuard } from './wiring/origin';

const startedAt = Date.now();

/** GET /v1/models, for an API key or an ID token, with OpenAI-shaped errors. */
export const { raw: listModels, handler } = httpHandler(
  'GET',
  {
    origin: createOriginGuard(settings, awsInfrastructure()),
    authenticate: createKeyOrTokenAuthenticator(settings, awsInfrastructure()),
    errorResult: (error) => openAiErrorResult(error, logger),
  },
  async () => json(200, modelList(settings.modelId, startedAt)),
);
