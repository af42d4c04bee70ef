/**
 * What the browser needs to sign in, served at GET /config.json: written by CDK at deploy time and by
 * the local stack at start, read by the web client before anything else.
 */
export interface PublicConfig {
  readonly region: string;
  readonly userPoolId: string;
  readonly userPoolClientId: string;
  readonly cognitoEndpoint: string;
}
