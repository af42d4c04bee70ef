import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { withLogging } from './commons/logger';
import { composition } from './composition';
import {
  type HeartbeatEvent,
  type HeartbeatRunResult,
  runHeartbeat,
  type ShardHeartbeat,
  scheduledHeartbeat,
} from './heartbeat/loop';

/**
 * The fleet heartbeat: each scheduled invocation loops for about a minute over one shard's servers,
 * scraping their /metrics and writing the shard's view. Why a loop, its cost, overlap and bounds:
 * functions/heartbeat/loop.ts.
 */
export const heartbeat = scheduledHeartbeat((shard) => composition().heartbeatForShard(shard));

/** The local runtime runs the same loops continuously, one per shard (local/background.ts). */
export { runHeartbeat };
export const heartbeatDepsFromEnv = (shard: number): ShardHeartbeat => composition().heartbeatForShard(shard);
export const fleetShardsFromEnv = (): number => composition().settings.fleetShards;

export const handler = middy<HeartbeatEvent | undefined, HeartbeatRunResult, Error, Context>()
  .use(withLogging())
  .handler(heartbeat);
