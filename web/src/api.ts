import type {
  ConversationEntry,
  ConversationsResponse,
  EraseStatusBody,
  HistoryEntry,
  HistoryResponse,
  RenameConversationBody,
  StopRequestBody,
} from '../../contract/http-api';
import type { PublicConfig } from '../../contract/public-config';
import { isTurnStatus } from '../../contract/turn';
import { AuthError, isRecord, refresh, type Session, saveSession } from './auth';

/** A non-2xx answer from the API, with the contract's `{error:{code,message}}` body when present. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown>,
    readonly retryAfter: string | null,
  ) {
    super(message);
  }
}

export async function apiError(response: Response): Promise<ApiError> {
  const body: unknown = await response.json().catch(() => undefined);
  const error = isRecord(body) && isRecord(body.error) ? body.error : {};
  return new ApiError(
    response.status,
    typeof error.code === 'string' ? error.code : `http_${response.status}`,
    typeof error.message === 'string' ? error.message : `HTTP ${response.status}`,
    error,
    response.headers.get('retry-after'),
  );
}

/** Refresh this long before the ID token expires. */
const REFRESH_AHEAD_MS = 120_000;
const REFRESH_RETRY_MS = 30_000;

/**
 * The signed-in API: adds the ID token to every call, refreshes it ahead of expiry (on a timer and
 * before any call made with a nearly expired token), and on a 401 refreshes once and retries once.
 * A refused refresh ends the session through `onSignedOut`.
 */
export class Api {
  private refreshing: Promise<Session> | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private disposed = false;

  constructor(
    private readonly config: PublicConfig,
    private current: Session,
    private readonly onSignedOut: (reason: string) => void,
  ) {
    this.schedule();
  }

  get session(): Session {
    return this.current;
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.timer);
  }

  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    if (this.current.expiresAt - Date.now() < 30_000) await this.refresh();
    const response = await this.send(path, init);
    if (response.status !== 401) return response;
    await response.body?.cancel();
    await this.refresh();
    const retried = await this.send(path, init);
    if (retried.status === 401) this.end('Your session has expired. Please log in again.');
    return retried;
  }

  async history(params: {
    limit?: number;
    cursor?: string;
    conversationId?: string;
  }): Promise<HistoryResponse> {
    const query = new URLSearchParams();
    if (params.limit !== undefined) query.set('limit', String(params.limit));
    if (params.cursor !== undefined) query.set('cursor', params.cursor);
    if (params.conversationId !== undefined) query.set('conversation_id', params.conversationId);
    const response = await this.fetch(`/chat/history?${query}`);
    if (!response.ok) throw await apiError(response);
    return parseHistory(await response.json());
  }

  /** GET /chat/conversations: newest activity first. */
  async conversations(params: { limit?: number; cursor?: string }): Promise<ConversationsResponse> {
    const query = new URLSearchParams();
    if (params.limit !== undefined) query.set('limit', String(params.limit));
    if (params.cursor !== undefined) query.set('cursor', params.cursor);
    const response = await this.fetch(`/chat/conversations?${query}`);
    if (!response.ok) throw await apiError(response);
    return parseConversations(await response.json());
  }

  /** PATCH /chat/conversations/{id}: the renamed conversation. */
  async rename(id: string, title: string): Promise<ConversationEntry> {
    const response = await this.fetch(`/chat/conversations/${encodeURIComponent(id)}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ title } satisfies RenameConversationBody),
    });
    if (!response.ok) throw await apiError(response);
    const entry = parseConversation(await response.json());
    if (!entry) throw new Error('Unexpected rename response');
    return entry;
  }

  /** DELETE /chat/conversations/{id} (204; a 404 means it is gone already, which is what was asked). */
  async deleteConversation(id: string): Promise<void> {
    const response = await this.fetch(`/chat/conversations/${encodeURIComponent(id)}`, { method: 'DELETE' });
    if (!response.ok && response.status !== 404) throw await apiError(response);
    await response.body?.cancel();
  }

  /** GET /chat/export, as a file to save. */
  async exportHistory(): Promise<Blob> {
    const response = await this.fetch('/chat/export');
    if (!response.ok) throw await apiError(response);
    return new Blob([await response.arrayBuffer()], { type: 'application/json' });
  }

  /** DELETE /chat/history: erases every conversation (202). */
  async eraseHistory(): Promise<EraseStatusBody> {
    const response = await this.fetch('/chat/history', { method: 'DELETE' });
    if (!response.ok) throw await apiError(response);
    const body: unknown = await response.json().catch(() => ({}));
    const status = isRecord(body) ? body.status : undefined;
    return { status: status === 'complete' || status === 'erasing' ? status : 'erasing' };
  }

  /** Asks the server to stop a streaming turn; false when the server could not (e.g. no such route). */
  async stop(messageId: string): Promise<boolean> {
    try {
      const response = await this.fetch('/chat/stop', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ message_id: messageId } satisfies StopRequestBody),
      });
      await response.body?.cancel();
      return response.ok;
    } catch {
      return false;
    }
  }

  private send(path: string, init: RequestInit): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set('authorization', `Bearer ${this.current.idToken}`);
    return fetch(path, { ...init, headers });
  }

  /** One refresh at a time; callers share it. */
  refresh(): Promise<Session> {
    this.refreshing ??= refresh(this.config, this.current)
      .then((session) => {
        this.current = session;
        saveSession(session);
        this.schedule();
        return session;
      })
      .catch((error: unknown) => {
        if (error instanceof AuthError) this.end('Your session has expired. Please log in again.');
        else this.schedule(REFRESH_RETRY_MS);
        throw error;
      })
      .finally(() => {
        this.refreshing = undefined;
      });
    return this.refreshing;
  }

  private schedule(delayMs?: number): void {
    clearTimeout(this.timer);
    if (this.disposed) return;
    const wait = delayMs ?? Math.max(5_000, this.current.expiresAt - Date.now() - REFRESH_AHEAD_MS);
    this.timer = setTimeout(() => {
      this.refresh().catch(() => undefined);
    }, wait);
  }

  private end(reason: string): void {
    if (this.disposed) return;
    this.dispose();
    this.onSignedOut(reason);
  }
}

/** Checks the answer's shape; a malformed entry is skipped, a missing field defaulted. */
export function parseHistory(body: unknown): HistoryResponse {
  if (!isRecord(body) || !Array.isArray(body.chats)) throw new Error('Unexpected history response');
  const chats: HistoryEntry[] = [];
  for (const item of body.chats) {
    if (!isRecord(item)) continue;
    const { id, user_message, assistant_response, timestamp, conversation_id, status, error_code } = item;
    if (typeof id !== 'string' || typeof conversation_id !== 'string') continue;
    chats.push({
      id,
      conversation_id,
      user_message: typeof user_message === 'string' ? user_message : '',
      assistant_response: typeof assistant_response === 'string' ? assistant_response : '',
      timestamp: typeof timestamp === 'string' ? timestamp : String(timestamp ?? ''),
      status: isTurnStatus(status) ? status : 'completed',
      ...(typeof error_code === 'string' ? { error_code } : {}),
      ...(typeof item.regenerate_of === 'string' ? { regenerate_of: item.regenerate_of } : {}),
      ...(typeof item.edit_of === 'string' ? { edit_of: item.edit_of } : {}),
    });
  }
  return {
    chats,
    ...(typeof body.next_cursor === 'string' && body.next_cursor !== ''
      ? { next_cursor: body.next_cursor }
      : {}),
  };
}

function parseConversation(item: unknown): ConversationEntry | undefined {
  if (!isRecord(item) || typeof item.id !== 'string') return undefined;
  const text = (value: unknown) => (typeof value === 'string' ? value : '');
  return {
    id: item.id,
    title: text(item.title),
    created_at: text(item.created_at),
    updated_at: text(item.updated_at) || text(item.created_at),
    turns: typeof item.turns === 'number' ? item.turns : 0,
  };
}

/** Checks GET /chat/conversations' shape; a malformed entry is skipped. */
export function parseConversations(body: unknown): ConversationsResponse {
  if (!isRecord(body) || !Array.isArray(body.conversations)) {
    throw new Error('Unexpected conversations response');
  }
  const conversations: ConversationEntry[] = [];
  for (const item of body.conversations) {
    const entry = parseConversation(item);
    if (entry) conversations.push(entry);
  }
  return {
    conversations,
    ...(typeof body.next_cursor === 'string' && body.next_cursor !== ''
      ? { next_cursor: body.next_cursor }
      : {}),
  };
}
