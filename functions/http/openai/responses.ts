/**
 * A turn's answer in the chat-completions wire format: `chat.completion` once stored, or
 * `chat.completion.chunk` events ending in `data: [DONE]` (contract/openai.ts). The same turn events
 * as POST /chat's (../chat-responses.ts), another wire.
 */
import type {
  ChatCompletionBody,
  ChatCompletionChunkBody,
  OpenAiFinishReason,
  OpenAiUsage,
} from '../../../contract/openai';
import type { TokenUsage } from '../../../domain/turn';
import type { ActiveTurn } from '../../../use-cases/start-turn';
import { logger } from '../../commons/logger';
import type { TurnEnd, TurnWire } from '../chat-responses';
import { SSE_DONE, sseData } from '../sse';
import { openAiErrorFrame } from './errors';

/** The completion's id: the turn's message id, so history, stop and the answer name the same thing. */
export const completionId = (turn: Pick<ActiveTurn, 'messageId'>) => `chatcmpl-${turn.messageId}`;

/** A stopped answer ended where the owner wanted: `stop`, like any other complete one. */
const finishReasonOf = (event: TurnEnd): OpenAiFinishReason =>
  event.finishReason === 'length' ? 'length' : 'stop';

const usageOf = (usage: TokenUsage): OpenAiUsage => ({
  prompt_tokens: usage.promptTokens,
  completion_tokens: usage.completionTokens,
  total_tokens: usage.promptTokens + usage.completionTokens,
});

export interface CompletionWireOptions {
  readonly model: string;
  readonly includeUsage: boolean;
  /** Epoch ms the request arrived: `created`. */
  readonly createdAt: number;
}

export function completionWire(options: CompletionWireOptions): TurnWire {
  const created = Math.floor(options.createdAt / 1000);
  const chunk = (
    turn: ActiveTurn,
    choices: ChatCompletionChunkBody['choices'],
    usage?: OpenAiUsage,
  ): string => {
    const body: ChatCompletionChunkBody = {
      id: completionId(turn),
      object: 'chat.completion.chunk',
      created,
      model: options.model,
      choices,
      // With include_usage every chunk carries `usage`: null until the last one, as OpenAI sends it.
      ...(options.includeUsage ? { usage: usage ?? null } : {}),
    };
    return sseData(body);
  };
  const delta = (content: string, role?: 'assistant') => [
    { index: 0 as const, delta: { ...(role ? { role } : {}), content }, finish_reason: null, logprobs: null },
  ];
  return {
    open: (turn) => chunk(turn, delta('', 'assistant')),
    content: (turn, text) => chunk(turn, delta(text)),
    end: (turn, event) => {
      const last = chunk(turn, [
        { index: 0, delta: {}, finish_reason: finishReasonOf(event), logprobs: null },
      ]);
      const usage = options.includeUsage && event.usage ? chunk(turn, [], usageOf(event.usage)) : '';
      return last + usage + SSE_DONE;
    },
    error: (error) => openAiErrorFrame(error, logger),
    body: (turn, answer, event): ChatCompletionBody => ({
      id: completionId(turn),
      object: 'chat.completion',
      created,
      model: options.model,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: answer, refusal: null },
          finish_reason: finishReasonOf(event),
          logprobs: null,
        },
      ],
      ...(event.usage ? { usage: usageOf(event.usage) } : {}),
      conversation_id: turn.conversationId,
      message_id: turn.messageId,
    }),
  };
}
