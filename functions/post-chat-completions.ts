import { chatHandler } from './http/chat-handler';
import { completionsProtocol } from './http/openai/protocol';
import { settings } from './settings';
import { createKeyOrTokenAuthenticator } from './wiring/api-keys';
import { createMeteredChat } from './wiring/chat';
import { awsInfrastructure } from './wiring/infrastructure';
import { createOriginGuard } from './wiring/origin';

/** POST /v1/chat/completions: POST /chat's pipeline in the OpenAI protocol, for an API key or an ID token. */
export const { raw: postChatCompletions, handler } = chatHandler({
  chat: createMeteredChat(settings, awsInfrastructure()),
  origin: createOriginGuard(settings, awsInfrastructure()),
  authenticate: createKeyOrTokenAuthenticator(settings, awsInfrastructure()),
  maxPromptChars: settings.maxPromptChars,
  sseFlushMs: settings.sseFlushMs,
  protocol: completionsProtocol({ maxPromptChars: settings.maxPromptChars, modelId: settings.modelId }),
});
