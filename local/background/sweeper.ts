/**
 * The sweeper: once at start-up for turns left in_progress by a previous run of this process (all of
 * them are dead: nothing else streams here), found by the stream slots they never released, then its
 * handler on its schedule like on AWS.
 */
import { chatTable, type FunctionTrigger } from '../../lib/resources';
import { createLambdaContext } from '../gateway/lambda-context';
import { loadHandler } from '../handlers';
import { backgroundFunction } from './definitions';
import type { BackgroundTask, StopFunction } from './task';

export const sweeperTask: BackgroundTask = {
  name: 'sweeper',
  async start(context) {
    const definition = backgroundFunction('SweepTurns');
    const trigger: FunctionTrigger = definition.trigger;
    const [
      { sweepTurnsOfDeadProcess },
      { DynamoDbTurnRepository },
      { DynamoDbStreamLeases },
      { documentClient },
    ] = await Promise.all([
      import('../../use-cases/sweep-turns'),
      import('../../adapters/dynamodb/turn-repository'),
      import('../../adapters/dynamodb/stream-leases'),
      import('../../adapters/dynamodb/clients'),
    ]);
    const tableName = context.env[chatTable.envVar] ?? chatTable.id;
    const repository = new DynamoDbTurnRepository(documentClient, tableName);
    const leases = new DynamoDbStreamLeases(documentClient, tableName);
    const clock = { now: () => Date.now() };
    const log = {
      info: (msg: string, ...extra: Record<string, unknown>[]) =>
        context.log({ level: 'info', msg, ...Object.assign({}, ...extra) }),
      warn: (msg: string, ...extra: Record<string, unknown>[]) =>
        context.log({ level: 'warn', msg, ...Object.assign({}, ...extra) }),
      error: (msg: string, ...extra: Record<string, unknown>[]) =>
        context.log({ level: 'error', msg, ...Object.assign({}, ...extra) }),
    };
    // Every slot of a turn from before this stack started belongs to a process that is gone. Turns begun
    // since (the gateway already listens) are live: the cut-off is the stack's start, not this moment.
    const marked = await sweepTurnsOfDeadProcess({ leases, repository, clock, log }, context.startedAt);
    context.log({ level: 'info', msg: 'startup_sweep', marked });

    const handler = (await loadHandler(definition.entry)) as (
      event: unknown,
      lambdaContext: unknown,
    ) => Promise<unknown>;
    const everyMs = trigger.kind === 'schedule' ? trigger.everyMinutes * 60_000 : 300_000;
    const timer = setInterval(() => {
      handler(
        { source: 'aws.events', 'detail-type': 'Scheduled Event' },
        createLambdaContext(definition),
      ).catch((error: unknown) =>
        context.log({ level: 'error', msg: 'sweeper_failed', error: String(error) }),
      );
    }, everyMs);
    timer.unref();
    const stop: StopFunction = () => clearInterval(timer);
    return stop;
  },
};
