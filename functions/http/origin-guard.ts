/**
 * The first check of every HTTP function on AWS: the request came through CloudFront, which adds the
 * origin secret header to each API request (lib/constructs/web-hosting.ts). A Function URL called
 * directly — skipping the WAF, the rate limit and the edge — is refused before its token or body is read.
 *
 * Why a secret header and not OAC with AWS_IAM: OAC signs the request with SigV4 in `Authorization`,
 * which then can no longer carry the user's ID token, and every POST would need the client to send
 * `x-amz-content-sha256` — both break the API contract for existing clients.
 *
 * Rotation (README "Runbook"): a new value in Secrets Manager, then a deploy so CloudFront sends it.
 * Both the current and the previous value are accepted meanwhile; a container holding only the old one
 * re-reads the store on the first mismatch (rate-limited by the Secret).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { DomainError } from '../../domain/errors';
import type { Log, Secret } from '../../domain/ports';
import { originSecret } from '../../lib/resources';
import { errorResult, type HttpEvent, type HttpResult, header } from './event';

export const ORIGIN_REFUSED_MESSAGE = 'Call the API through the site.';

/** Equal-length digests, so the comparison's time says nothing about the secret or its length. */
const digest = (value: string) => createHash('sha256').update(value).digest();
const matchesAny = (presented: Buffer, values: readonly string[]) =>
  values.some((value) => timingSafeEqual(presented, digest(value)));

export type OriginVerdict = 'accepted' | 'refused' | 'unverified';

export class OriginGuard {
  public constructor(
    private readonly secret: Secret,
    private readonly log: Log,
  ) {}

  /**
   * `unverified`: the header is there but the store could not be read (a cold container during a Secrets
   * Manager outage). Static stability: CloudFront always sends the header, so such requests are let
   * through to the token check rather than refusing every user; the outage is logged.
   */
  public async check(presentedValue: string | undefined): Promise<OriginVerdict> {
    if (presentedValue === undefined || presentedValue === '') return 'refused';
    const presented = digest(presentedValue);
    let values: readonly string[];
    try {
      values = await this.secret.values();
    } catch (error) {
      this.log.error('origin_secret_unreadable', { error: String(error) });
      return 'unverified';
    }
    if (matchesAny(presented, values)) return 'accepted';
    // Maybe rotated since this container read it.
    const refreshed = await this.secret.refresh().catch(() => values);
    return matchesAny(presented, refreshed) ? 'accepted' : 'refused';
  }
}

/**
 * The 403 (JSON) for a request that skipped CloudFront, or undefined to go on. Called first inside the
 * handler's log scope, so the refusal is logged with the request's correlation id.
 */
export async function originRefusal(
  guard: OriginGuard,
  event: HttpEvent,
  log: Log,
): Promise<HttpResult | undefined> {
  const presented = header(event, originSecret.header);
  if ((await guard.check(presented)) !== 'refused') return undefined;
  log.warn('origin_refused', { has_header: presented !== undefined });
  return errorResult(new DomainError('forbidden', ORIGIN_REFUSED_MESSAGE), log);
}
