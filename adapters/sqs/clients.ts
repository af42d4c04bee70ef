import { SQSClient } from '@aws-sdk/client-sqs';
import { DEFAULT_SDK_TIMEOUTS, requestHandlerOptions, type SdkTimeouts } from '../dynamodb/clients';

/** An SQS client with time-outs that abort (see adapters/dynamodb/clients.ts); endpoint from the environment. */
export function createSqsClient(timeouts: SdkTimeouts = DEFAULT_SDK_TIMEOUTS): SQSClient {
  return new SQSClient({
    requestHandler: requestHandlerOptions(timeouts),
    ...(timeouts.maxAttempts === undefined ? {} : { maxAttempts: timeouts.maxAttempts }),
  });
}
