import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { withLogging } from './commons/logger';
import {
  type HeartbeatEvent,
  type HeartbeatRunResult,
  runHeartbeat,
  type ShardHeartbeat,
  scheduledHeartbeat,
} from './heartbeat/loop';
import { settings } from './settings';
import { createHeartbeat } from './wiring/heartbeat';
import { awsInfrastructure } from './wiring/infrastructure';

/**
 * The fleet heartbeat: each scheduled invocation loops for about a minute over one shard's servers,
 * scraping their /metrics and writing the shard's view. Why a loop, its cost, overlap and bounds:
 * functions/heartbeat/loop.ts.
 */
const fleetHeartbeat = createHeartbeat(settings, awsInfrastructure());

export const heartbeat = scheduledHeartbeat(fleetHeartbeat.forShard);

/** The local runtime runs the same loops continuously, one per shard (local/background/heartbeat.ts). */
export { runHeartbeat };
export const heartbeatDepsFromEnv = (shard: number): ShardHeartbeat => fleetHeartbeat.forShard(shard);
export const fleetShardsFromEnv = (): number => fleetHeartbeat.shards;

export const handler = middy<HeartbeatEvent | undefined, HeartbeatRunResult, Error, Context>()
  .use(withLogging())
  .handler(heartbeat);
