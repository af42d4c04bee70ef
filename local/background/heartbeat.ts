/**
 * The heartbeat: on AWS an EventBridge rule invokes the function once a minute per shard, and each
 * invocation loops for about that minute. Here each shard's invocations follow one another without a
 * gap, through the same handler and a Lambda-like context, like the poller's and the sweeper's.
 */
import type { Context } from 'aws-lambda';
import type { HeartbeatEvent } from '../../functions/heartbeat/loop';
import { createLambdaContext } from '../gateway/lambda-context';
import { loadHandler } from '../handlers';
import { backgroundFunction } from './definitions';
import type { BackgroundTask } from './task';

type HeartbeatHandler = (event: HeartbeatEvent, lambdaContext: Context) => Promise<unknown>;

export const heartbeatTask: BackgroundTask = {
  name: 'heartbeat',
  async start(context) {
    const definition = backgroundFunction('RunHeartbeat');
    const handler = (await loadHandler(definition.entry)) as HeartbeatHandler;
    // Imported once the stack has set the handlers' environment, like the handler modules themselves.
    const { fleetShardsFromEnv } = await import('../../functions/run-heartbeat');
    const shards = fleetShardsFromEnv();
    let stopping = false;

    const runShard = async (shard: number): Promise<void> => {
      while (!stopping) {
        const lambdaContext = createLambdaContext(definition);
        // Stopping leaves the invocation no time: its loop ends after the current tick, as near a time-out.
        await handler(
          { shard },
          {
            ...lambdaContext,
            getRemainingTimeInMillis: () => (stopping ? 0 : lambdaContext.getRemainingTimeInMillis()),
          },
        );
      }
    };
    const runs = Array.from({ length: shards }, (_, shard) => runShard(shard));
    const loops = runs.map((run, shard) =>
      run.catch((error: unknown) =>
        context.log({ level: 'error', msg: 'heartbeat_stopped', shard, error: String(error) }),
      ),
    );
    // A malformed setting rejects the first invocation before any I/O: fail start-up with it, loudly.
    const startupError = await Promise.race([
      Promise.all(runs).then(
        () => undefined,
        (error: unknown) => ({ error }),
      ),
      new Promise<undefined>((resolve) => setImmediate(resolve, undefined)),
    ]);
    if (startupError) {
      stopping = true;
      await Promise.all(loops);
      throw startupError.error;
    }
    return async () => {
      stopping = true;
      await Promise.all(loops);
    };
  },
};
