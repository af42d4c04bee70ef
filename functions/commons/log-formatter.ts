import { LogFormatter, LogItem } from '@aws-lambda-powertools/logger';
import type { LogAttributes, UnformattedAttributes } from '@aws-lambda-powertools/logger/types';
import { logScopeKeys } from './log-scope';

/**
 * Powertools' record without what every line of a function repeats: its ARN, name and memory size are
 * the log group's and the platform's, the sampling rate is configuration, and no trace is recorded
 * (lib/constructs/function-observability.ts). ~250 bytes a line, at a line per turn and 200M turns a day.
 * `cold_start` stays on the line that has it true; the request id stays on every line. The request's
 * keys (correlation, caller, turn) come from its log scope (log-scope.ts), so they last as long as the
 * request's work does, a streamed turn included.
 */
export class CompactLogFormatter extends LogFormatter {
  formatAttributes(attributes: UnformattedAttributes, additionalLogAttributes: LogAttributes): LogItem {
    const scope = logScopeKeys();
    return new LogItem({
      attributes: {
        level: attributes.logLevel,
        message: attributes.message,
        timestamp: this.formatTimestamp(attributes.timestamp),
        service: attributes.serviceName,
        request_id: attributes.lambdaContext?.awsRequestId,
        ...(attributes.lambdaContext?.coldStart ? { cold_start: true } : {}),
        // The scope's request id wins: one process may serve several invocations at once (locally).
        ...scope,
      },
    }).addAttributes(additionalLogAttributes);
  }
}
