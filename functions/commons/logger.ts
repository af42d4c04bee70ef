import { Logger } from '@aws-lambda-powertools/logger';

/** One logger per container. Log ids, sizes and timings; never prompt or answer text. */
export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'chat' });
