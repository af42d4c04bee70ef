import { createAuthenticator } from './http/auth';
import { chatHandler } from './http/chat-handler';
import { settings } from './settings';
import { createMeteredChat } from './wiring/chat';
import { awsInfrastructure } from './wiring/infrastructure';
import { createOriginGuard } from './wiring/origin';

/** POST /chat (functions/http/chat-handler.ts), wired to the container's clients. */
export const { raw: postChat, handler } = chatHandler({
  chat: createMeteredChat(settings, awsInfrastructure()),
  origin: createOriginGuard(settings, awsInfrastructure()),
  authenticate: createAuthenticator(settings),
  maxPromptChars: settings.maxPromptChars,
  sseFlushMs: settings.sseFlushMs,
});
