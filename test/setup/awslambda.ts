/**
 * vitest setupFiles entry: middy reads `globalThis.awslambda.streamifyResponse` when a handler
 * module is evaluated, so the local shim must be in place before any test imports a handler.
 */
import { installAwsLambdaShim } from '../../local/gateway/awslambda-shim';

installAwsLambdaShim();
