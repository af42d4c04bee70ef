import { DynamoDbStopFlags } from '../../adapters/dynamodb/stop-flags';
import { DynamoDbTurnRepository } from '../../adapters/dynamodb/turn-repository';
import type { Settings } from '../../settings/settings';
import type { Infrastructure } from './infrastructure';

/** The chat table's stores: turns (history, store, sweep, persist) and stop flags (stop, chat). */
export function createTurnStores(settings: Pick<Settings, 'chatTableName'>, infrastructure: Infrastructure) {
  const { documentClient, clock } = infrastructure;
  return {
    repository: new DynamoDbTurnRepository(documentClient, settings.chatTableName),
    stopFlags: new DynamoDbStopFlags(documentClient, settings.chatTableName, clock),
  };
}
