import type { TurnRevision } from './chat-request';
import type { ChatMessage, TokenUsage, Turn } from './turn';

/**
 * Context is counted in the serving model's own tokens, from the usage its server reported, with no
 * tokenizer in the function. An earlier turn costs its answer's completion_tokens plus its message's
 * `messageTokens`; where either is missing (turns from /chat/store, from a server that sent no usage,
 * from before these counts), estimateTokens stands in, which never counts fewer than any tokenizer.
 *
 * A turn's messageTokens comes from differences of the server's counts. The newest earlier turn L the
 * prompt holds was itself sent with the turns from `L.contextFrom` on, so its prompt_tokens +
 * completion_tokens is what the server counts for those turns, L and the template's fixed prefix.
 * The new prompt holds the same, minus the oldest of them if the budget dropped them (added back at
 * their counts), plus the new message: messageTokens = prompt_tokens − that (tokensBeforePrompt).
 * The prefix cancels, and no estimate enters unless a dropped turn had one, so the counts are exact
 * for a conversation counted from its start. A turn that was not in L's prompt but is in this one
 * (a turn finished meanwhile) only adds to the count, a dropped count above the truth too: the
 * result is never below the message's cost, and it is capped at the message's estimate.
 * This holds while the chat template renders earlier turns as they were generated; one that drops
 * text from history (a reasoning model's thinking) makes L's completion_tokens count more than the
 * prompt holds, and the next message is under-counted by the difference.
 */

/**
 * Tokens a chat template spends framing a message: at most ~10 in the common ones (role header, end
 * of turn, for a user message the assistant header after it, SentencePiece's leading space); 16 leaves room.
 */
const MESSAGE_FRAMING_TOKENS = 16;

/** UTF-8 length of `text`; a lone surrogate counts 3, as the U+FFFD it is sent as. */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    bytes += code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
  }
  return bytes;
}

/**
 * An upper bound of the tokens one message costs, with its framing: one token per UTF-8 byte. Byte-level
 * BPE (GPT, Llama 3, Qwen) and SentencePiece with byte fallback (Llama 2, Mistral, Gemma) never spend
 * more: every token covers at least one byte. English averages ~4 bytes a token, so this over-counts it
 * ~4×, CJK ~2×; it is for turns without a count only.
 */
export function estimateTokens(text: string): number {
  return utf8Length(text) + MESSAGE_FRAMING_TOKENS;
}

/** A reported count is used only when it is a positive integer (a server may send 0 for "unknown"). */
const isCount = (value: number | undefined): value is number =>
  value !== undefined && Number.isInteger(value) && value > 0;

/** What one completed turn costs as context, and whether both of its counts came from the server. */
export function contextCost(turn: Turn): { tokens: number; exact: boolean } {
  const answer = turn.usage?.completionTokens;
  const message = turn.messageTokens;
  const answerExact = isCount(answer);
  const messageExact = isCount(message);
  return {
    tokens:
      (messageExact ? message : estimateTokens(turn.userMessage)) +
      (answerExact ? answer : estimateTokens(turn.assistantResponse)),
    exact: answerExact && messageExact,
  };
}

export interface Context {
  readonly messages: ChatMessage[];
  readonly contextTurns: number;
  /** What the earlier turns cost, in tokens: never above the budget. */
  readonly contextTokens: number;
  /** Earlier turns sent that were counted, in part, by estimate. */
  readonly estimatedTurns: number;
  /** Id of the oldest earlier turn sent; undefined when none was. */
  readonly oldestTurnId?: string;
  /**
   * At most what the server counts in this prompt before the new message (see above): 0 with no
   * earlier turn; undefined when unknown (the newest earlier turn has no usage or no contextFrom, or
   * the oldest turn of its own prompt is not among the turns read).
   */
  readonly tokensBeforePrompt?: number;
  /**
   * The client sent the earlier messages (ChatRequest.history): the server's counts then cover text that
   * is not the conversation's stored turns, so the turn keeps no `contextFrom` and later turns estimate it.
   */
  readonly fromClient?: boolean;
}

/**
 * The messages sent to the model: earlier completed turns of the conversation, taken newest first
 * until `budgetTokens` is full, then put back in chronological order, then the new prompt.
 * Only completed turns are context: a failed or stopped answer would teach the model its own cut-offs.
 */
export function buildContext(
  earlierTurnsNewestFirst: readonly Turn[],
  prompt: string,
  budgetTokens: number,
): Context {
  const picked: Turn[] = [];
  let used = 0;
  let estimatedTurns = 0;
  let oldestIndex = -1;
  for (const [index, turn] of earlierTurnsNewestFirst.entries()) {
    if (turn.status !== 'completed') continue;
    const cost = contextCost(turn);
    if (used + cost.tokens > budgetTokens) break;
    used += cost.tokens;
    if (!cost.exact) estimatedTurns++;
    picked.push(turn);
    oldestIndex = index;
  }
  const tokensBeforePrompt = countedBefore(earlierTurnsNewestFirst, picked[0], oldestIndex);
  const oldest = picked.at(-1);
  const messages: ChatMessage[] = [];
  for (const turn of picked.reverse()) {
    messages.push(
      { role: 'user', content: turn.userMessage },
      { role: 'assistant', content: turn.assistantResponse },
    );
  }
  messages.push({ role: 'user', content: prompt });
  return {
    messages,
    contextTurns: picked.length,
    contextTokens: used,
    estimatedTurns,
    ...(oldest ? { oldestTurnId: oldest.id } : {}),
    ...(tokensBeforePrompt === undefined ? {} : { tokensBeforePrompt }),
  };
}

/** Context.tokensBeforePrompt, from the newest turn sent and the turns read (newest first). */
function countedBefore(
  turns: readonly Turn[],
  newest: Turn | undefined,
  oldestIndex: number,
): number | undefined {
  if (!newest) return 0;
  const usage = newest.usage;
  if (!usage || !isCount(usage.promptTokens) || !isCount(usage.completionTokens)) return undefined;
  const newestIndex = turns.indexOf(newest);
  const fromIndex = turns.findIndex((turn, index) => index >= newestIndex && turn.id === newest.contextFrom);
  if (fromIndex < 0) return undefined;
  // The turns of the newest one's prompt that the budget left out of this one.
  let dropped = 0;
  for (const turn of turns.slice(oldestIndex + 1, fromIndex + 1)) {
    if (turn.status === 'completed') dropped += contextCost(turn).tokens;
  }
  return usage.promptTokens + usage.completionTokens - dropped;
}

/**
 * The prompt tokens of a turn's own message, as its server counted them (see above): undefined when
 * unknown, or when it is no better than the message's estimate.
 */
export function messageTokensOf(
  context: Pick<Context, 'tokensBeforePrompt'>,
  usage: TokenUsage | undefined,
  message: string,
): number | undefined {
  if (context.tokensBeforePrompt === undefined || !usage || !isCount(usage.promptTokens)) return undefined;
  const own = usage.promptTokens - context.tokensBeforePrompt;
  return isCount(own) && own < estimateTokens(message) ? own : undefined;
}

/**
 * The messages sent when the client supplied its own earlier messages (the OpenAI protocol): those, as
 * sent, then the new prompt. Nothing stored is added on top, and the budget is the client's business.
 */
export function clientContext(history: readonly ChatMessage[], prompt: string): Context {
  return {
    messages: [...history, { role: 'user', content: prompt }],
    contextTurns: 0,
    contextTokens: 0,
    estimatedTurns: 0,
    fromClient: true,
  };
}

/**
 * The earlier turns (newest first) a new turn's prompt may hold, given revisions: a turn that a later one
 * regenerated or edited is not context, and a turn that itself revises one is asked as if that turn, and
 * any after it, had never been: a regeneration must not see the answer it replaces. Applied to every turn
 * alike, so the newest turn a prompt holds was itself sent with the same rule (the counts above stay exact).
 */
export function withoutRevisedTurns(earlier: readonly Turn[], revises: TurnRevision | undefined): Turn[] {
  const revised = new Set(earlier.flatMap((turn) => (turn.revises ? [turn.revises.of] : [])));
  const target = revises && earlier.find((turn) => turn.id === revises.of);
  return earlier.filter(
    (turn) =>
      !revised.has(turn.id) && turn.id !== revises?.of && (!target || turn.createdAt < target.createdAt),
  );
}
