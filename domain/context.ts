import type { Tokenizer } from './ports';
import type { ChatMessage, Turn } from './turn';

/** Per-message framing overhead of chat templates, in tokens (OpenAI's rule of thumb). */
const MESSAGE_OVERHEAD_TOKENS = 4;

/**
 * The messages sent to the model: earlier completed turns of the conversation, taken newest first
 * until `budgetTokens` is full, then put back in chronological order, then the new prompt.
 * Only completed turns are context: a failed or stopped answer would teach the model its own cut-offs.
 */
export function buildContext(
  earlierTurnsNewestFirst: readonly Turn[],
  prompt: string,
  budgetTokens: number,
  tokenizer: Tokenizer,
): { messages: ChatMessage[]; contextTurns: number; contextTokens: number } {
  const picked: Turn[] = [];
  let used = 0;
  for (const turn of earlierTurnsNewestFirst) {
    if (turn.status !== 'completed') continue;
    const cost =
      tokenizer.count(turn.userMessage) +
      tokenizer.count(turn.assistantResponse) +
      2 * MESSAGE_OVERHEAD_TOKENS;
    if (used + cost > budgetTokens) break;
    used += cost;
    picked.push(turn);
  }
  const messages: ChatMessage[] = [];
  for (const turn of picked.reverse()) {
    messages.push(
      { role: 'user', content: turn.userMessage },
      { role: 'assistant', content: turn.assistantResponse },
    );
  }
  messages.push({ role: 'user', content: prompt });
  return { messages, contextTurns: picked.length, contextTokens: used };
}
