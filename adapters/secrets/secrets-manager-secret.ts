/**
 * A Secret (domain/ports.ts) in AWS Secrets Manager. Locally AWS_ENDPOINT_URL_SECRETS_MANAGER points the
 * SDK at local/emulators/secrets-manager.ts.
 *
 * Read once per container and cached: a GetSecretValue per request would add a call (and its latency and
 * $0.05 per 10k) to every prompt. A rotation reaches a warm container through `refresh()` (a mismatch, a
 * 401), which reads the store at most once per `minRefreshMs`. A failed read never drops a value already
 * held (static stability: the store being down must not lock out a container that knew the key).
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type Clock, type Secret, systemClock } from '../../domain/ports';
import { DEFAULT_SDK_TIMEOUTS, requestHandlerOptions, type SdkTimeouts } from '../dynamodb/clients';

export interface SecretsManagerSecretOptions {
  /** Also accept AWSPREVIOUS: for a secret checked on requests, so a rotation refuses nobody midway. */
  readonly withPrevious?: boolean;
  /** @default 30 s */
  readonly minRefreshMs?: number;
  /** After a failed first read, callers get that failure until this passes. @default 1 s */
  readonly retryAfterFailureMs?: number;
  readonly clock?: Clock;
}

export function createSecretsManagerClient(
  timeouts: SdkTimeouts = DEFAULT_SDK_TIMEOUTS,
): SecretsManagerClient {
  return new SecretsManagerClient({ requestHandler: requestHandlerOptions(timeouts) });
}

export class SecretsManagerSecret implements Secret {
  private held: readonly string[] | undefined;
  private heldAt = Number.NEGATIVE_INFINITY;
  private inFlight: Promise<readonly string[]> | undefined;
  private failedAt = Number.NEGATIVE_INFINITY;
  private lastFailure: unknown;
  private readonly minRefreshMs: number;
  private readonly retryAfterFailureMs: number;
  private readonly clock: Clock;

  public constructor(
    private readonly client: SecretsManagerClient,
    /** Name or ARN. */
    private readonly secretId: string,
    private readonly options: SecretsManagerSecretOptions = {},
  ) {
    this.minRefreshMs = options.minRefreshMs ?? 30_000;
    this.retryAfterFailureMs = options.retryAfterFailureMs ?? 1_000;
    this.clock = options.clock ?? systemClock;
  }

  public values(): Promise<readonly string[]> {
    if (this.held) return Promise.resolve(this.held);
    if (this.clock.now() - this.failedAt < this.retryAfterFailureMs) return Promise.reject(this.lastFailure);
    return this.load();
  }

  public refresh(): Promise<readonly string[]> {
    if (this.held && this.clock.now() - this.heldAt < this.minRefreshMs) return Promise.resolve(this.held);
    return this.load().catch((error: unknown) => {
      if (this.held) return this.held;
      throw error;
    });
  }

  private load(): Promise<readonly string[]> {
    this.inFlight ??= this.read()
      .then((values) => {
        this.held = values;
        this.heldAt = this.clock.now();
        return values;
      })
      .catch((error: unknown) => {
        this.failedAt = this.clock.now();
        this.lastFailure = error;
        // A held value stays; the next refresh may try again only after the interval.
        this.heldAt = this.clock.now();
        throw error;
      })
      .finally(() => {
        this.inFlight = undefined;
      });
    return this.inFlight;
  }

  private async read(): Promise<readonly string[]> {
    const current = await this.stage('AWSCURRENT');
    if (current === undefined) throw new Error(`Secret ${this.secretId} has no current string value`);
    if (!this.options.withPrevious) return [current];
    const previous = await this.stage('AWSPREVIOUS').catch((error: unknown) => {
      // A secret never rotated has no AWSPREVIOUS: that is not a failure.
      if (error instanceof Error && error.name === 'ResourceNotFoundException') return undefined;
      throw error;
    });
    return previous === undefined || previous === current ? [current] : [current, previous];
  }

  private async stage(stage: 'AWSCURRENT' | 'AWSPREVIOUS'): Promise<string | undefined> {
    const output = await this.client.send(
      new GetSecretValueCommand({ SecretId: this.secretId, VersionStage: stage }),
    );
    return output.SecretString;
  }
}
