/**
 * The chat containers' fleet reads. In Lambda every container is its own process and decodes every view it
 * reads; in one simulation process 80,000 containers doing that made the decoding most of the CPU time
 * and their private copies tens of GB. So, by default (SIM_REAL_VIEWS unset):
 * - the request is the real DynamoDbFleetRepository's own: the first read of each (shard, consistency)
 *   runs the real getView through a recording client, and later reads send a GetCommand with exactly the
 *   input it recorded (capacity is charged to the chat containers as usual);
 * - the item is decoded by the real adapter's fleetStateFromItem once per stored item version (the model
 *   returns the same frozen object for the same version), and that state, deep-frozen, is shared by every
 *   container that reads the same version: any mutation of a read view by the real code throws.
 * SIM_REAL_VIEWS=1 calls the real getView on every read instead (exact, slower; same versions are still
 * shared afterwards, to bound memory).
 */
import { type DynamoDBDocumentClient, GetCommand, type GetCommandInput } from '@aws-sdk/lib-dynamodb';
import { fleetStateFromItem } from '../../adapters/dynamodb/fleet-items';
import { DynamoDbFleetRepository } from '../../adapters/dynamodb/fleet-repository';
import type { FleetState } from '../../domain/fleet';
import type { FleetRepository } from '../../domain/ports';
import { deepFreeze } from './dynamodb-evaluate';

type ViewOptions = { readonly consistent?: boolean; readonly signal?: AbortSignal };

export class SharedViews implements Pick<FleetRepository, 'getView'> {
  private readonly decoded = new WeakMap<object, FleetState>();
  private readonly recorded = new Map<string, GetCommandInput>();
  private readonly real: DynamoDbFleetRepository;
  reads = 0;
  decodes = 0;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly exact = false,
  ) {
    this.real = new DynamoDbFleetRepository(doc, tableName);
  }

  /** The real getView, through a client that records the GetCommand input it sends. */
  private async recordedRead(shard: number, options?: ViewOptions) {
    let input: GetCommandInput | undefined;
    const send = this.doc.send as (command: unknown, options?: unknown) => Promise<unknown>;
    const recording = {
      send: (command: unknown, sendOptions?: unknown) => {
        if (command instanceof GetCommand) input = command.input;
        return send(command, sendOptions);
      },
    } as unknown as DynamoDBDocumentClient;
    const state = await new DynamoDbFleetRepository(recording, this.tableName).getView(shard, options);
    return { state, input };
  }

  async getView(shard: number, options?: ViewOptions): Promise<FleetState | undefined> {
    this.reads++;
    if (this.exact) return this.share(await this.real.getView(shard, options));
    const key = `${shard}/${options?.consistent === true}`;
    const input = this.recorded.get(key);
    if (!input) {
      const first = await this.recordedRead(shard, options);
      if (first.input) this.recorded.set(key, first.input);
      return this.share(first.state);
    }
    const output = await this.doc.send(
      new GetCommand(input),
      options?.signal ? { abortSignal: options.signal } : {},
    );
    const item = output.Item;
    if (!item) return undefined;
    let state = this.decoded.get(item);
    if (!state) {
      this.decodes++;
      state = this.share(fleetStateFromItem(item)) as FleetState;
      this.decoded.set(item, state);
    }
    return state;
  }

  /** One instance per view version for every path: a state equal to one held is replaced by it. */
  private readonly canonical = new Map<number, FleetState>();

  private share(state: FleetState | undefined): FleetState | undefined {
    if (!state) return state;
    const held = this.canonical.get(state.shard);
    if (held && held.version === state.version && held.updatedAt === state.updatedAt) return held;
    deepFreeze(state);
    this.canonical.set(state.shard, state);
    return state;
  }
}
