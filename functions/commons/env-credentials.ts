/**
 * Stands in for the AWS SDK's default credential chain (`@aws-sdk/credential-provider-node`) in the
 * Lambda bundles, where lib/constructs/function-bundling.ts aliases that package to this module. On
 * Lambda the execution role's credentials are in the environment (AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN): the chain's first link, `fromEnv`, is the one that answers
 * there. The rest (profiles, SSO, credential processes, web identity, container and instance metadata)
 * never runs on Lambda, yet bundled it is ~90 KB to compile and more Node built-ins to load at every
 * cold start. The local stack and the tests run the SDK unbundled, with its whole chain.
 */
import { type FromEnvInit, fromEnv } from '@aws-sdk/credential-provider-env';

export const defaultProvider = (init?: FromEnvInit) => fromEnv(init);
