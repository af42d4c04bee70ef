/**
 * The bearer key the fleet's servers require (vLLM/TGI `--api-key`), shared by the model client and the
 * metrics scrape of one container. Read from the Secret on first use and then held as a plain string, so
 * a request pays nothing for it after the first (not even a promise). A 401 asks for a refresh, which the
 * Secret rate-limits: a wrong key costs one store read per interval, however many requests are refused.
 */
import type { Secret } from '../../domain/ports';

export class FleetApiKey {
  private held: string | undefined;
  private loaded: boolean;

  /** Without a secret the fleet needs no key: no header is sent. */
  public constructor(private readonly secret?: Secret) {
    this.loaded = secret === undefined;
  }

  /** True once `current` is the key to send (or there is none). */
  public get ready(): boolean {
    return this.loaded;
  }

  /** The key held now; undefined without a secret or before the first read. */
  public get current(): string | undefined {
    return this.held;
  }

  /** The key to send: from memory once read, else read now (a failed read rejects; the next call retries). */
  public async get(): Promise<string | undefined> {
    if (this.loaded || !this.secret) return this.held;
    const [value] = await this.secret.values();
    this.hold(value);
    return this.held;
  }

  /**
   * A server refused `rejected`: re-reads the store (at most once per the Secret's interval) and returns
   * the new key, or undefined when it is the same (a retry would be refused again) or none is configured.
   */
  public async renewAfter(rejected: string | undefined): Promise<string | undefined> {
    if (!this.secret) return undefined;
    const [value] = await this.secret.refresh();
    this.hold(value);
    return this.held !== undefined && this.held !== rejected ? this.held : undefined;
  }

  private hold(value: string | undefined): void {
    // An empty secret string means "no key", as an unset setting does.
    this.held = value === undefined || value === '' ? undefined : value;
    this.loaded = true;
  }
}

/** The Authorization header for `key`, or none. */
export function bearer(key: string | undefined): Record<string, string> {
  return key === undefined ? {} : { authorization: `Bearer ${key}` };
}
