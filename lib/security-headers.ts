/**
 * The web client's security headers, defined once: CloudFront's response-headers policy
 * (lib/constructs/web-hosting.ts) and the local gateway's static files (local/gateway/static-files.ts)
 * send the same ones. No aws-cdk-lib import: the local runtime loads this file.
 *
 * A header CSP, unlike the page's <meta>, can forbid framing (`frame-ancestors`). The client talks to its
 * own origin (the API) and to Cognito, whose origin the deployment or the local stack names.
 */
export function contentSecurityPolicy(authOrigins: readonly string[]): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src ${["'self'", ...authOrigins].join(' ')}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Two years, as HSTS preload lists ask. */
export const HSTS_MAX_AGE_SECONDS = 2 * 365 * 24 * 3600;

/** The headers every page and asset carries, by their lower-case names. */
export function securityHeaders(authOrigins: readonly string[]): Record<string, string> {
  return {
    'content-security-policy': contentSecurityPolicy(authOrigins),
    'strict-transport-security': `max-age=${HSTS_MAX_AGE_SECONDS}; includeSubDomains`,
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
  };
}
