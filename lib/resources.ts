/**
 * The single definition of the app's tables, queues and HTTP routes.
 * Both the CDK stacks (lib/*-stack.ts) and the local runtime (local/) read this file,
 * so the deployed and the local shapes cannot drift. No aws-cdk-lib import here on purpose:
 * the local runtime must load it without CDK.
 */

export type AttributeType = 'S' | 'N';

export interface KeyDefinition {
  readonly name: string;
  readonly type: AttributeType;
}

export interface IndexDefinition {
  readonly indexName: string;
  readonly partitionKey: KeyDefinition;
  readonly sortKey?: KeyDefinition;
  /**
   * ALL copies every attribute (each write to the item is paid again in the index); KEYS_ONLY copies
   * the keys, so the index is written only when they change.
   */
  readonly projection: 'ALL' | 'KEYS_ONLY';
}

export interface TableDefinition {
  /** CDK construct id, and the table name used by the local runtime. */
  readonly id: string;
  /** Environment variable through which functions receive the table name. */
  readonly envVar: string;
  readonly partitionKey: KeyDefinition;
  readonly sortKey?: KeyDefinition;
  readonly globalSecondaryIndexes: readonly IndexDefinition[];
  /** Attribute holding an epoch-seconds expiry, if the table uses TTL. */
  readonly timeToLiveAttribute?: string;
}

/**
 * Chat history. Partition = user, sort = `TURN#<message id>` where message ids are time-ordered
 * (ULIDs), so one Query with ScanIndexForward=false pages a user's turns newest first.
 * Other item kinds share the partition: `STORE#<client id>` (idempotency claims of /chat/store),
 * `IDEM#<key>` (Idempotency-Key claims of /chat, expiring), `STOP#<message id>` (stop requests, expiring),
 * `QUOTA#<window start>` and `STORED#<day>` (quota counters, expiring: adapters/dynamodb/quota-items.ts).
 * The `byConversation` index (pk `conv` = `<user>#<conversation>`) pages one conversation; the `byLeases`
 * index (pk `leases`, sort `sweep_at`) finds the quota windows whose stream slots are all over.
 * `CONV#<conversation id>` holds a conversation's title and activity, `ERASE` the user's last erase of
 * everything (adapters/dynamodb/conversation-items.ts). Conversations are listed by a Query of the user's
 * partition, not an index: an index sorted by activity would cost two more writes every turn.
 * API keys: `APIKEY#<key id>` in the owner's partition (what GET /chat/keys lists) and one lookup item
 * `APIKEYHASH#<sha256 of the key>` in a partition of its own, read by hash when a key authenticates
 * (adapters/dynamodb/api-key-items.ts): no index, so a key costs nothing on the tables' other writes.
 */
export const chatTable = {
  id: 'ChatTable',
  envVar: 'CHAT_TABLE_NAME',
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
  globalSecondaryIndexes: [
    {
      indexName: 'byConversation',
      partitionKey: { name: 'conv', type: 'S' },
      sortKey: { name: 'sk', type: 'S' },
      // Keys only: a turn's answer is written once, into the table alone (ALL paid each turn's 2-WRU
      // final write again here, and stored every turn twice). Context and conversation pages read the
      // turns from the table with one BatchGetItem, 0.5 RRU per turn: reads cost a fifth of writes.
      projection: 'KEYS_ONLY',
    },
    {
      // Sparse: only quota window items (QUOTA#<window start>) carry `leases` (= LEASES#<shard of the user>)
      // and `sweep_at` (epoch ms: the window's end plus the longest lease, after which every stream slot it
      // granted is over). Both are set once, at the window's first grant, so the index is written once per
      // user and window, never per turn. The sweeper queries each shard for the windows whose `sweep_at`
      // just passed: a slot still on such a window was never released, so its turn's process died.
      indexName: 'byLeases',
      partitionKey: { name: 'leases', type: 'S' },
      sortKey: { name: 'sweep_at', type: 'N' },
      // Keys only: the sweeper reads the few windows it finds from the table.
      projection: 'KEYS_ONLY',
    },
  ],
  timeToLiveAttribute: 'expires_at',
} as const satisfies TableDefinition;

/**
 * Shards of the byLeases index (a hash of the user id), so its write rate, one entry per user and quota
 * window, stays far below one partition's limit at scale. Constant: the sweeper queries every shard.
 */
export const LEASE_SHARDS = 16;

/**
 * Inference fleet load, written by the heartbeat and read by admission in the chat function.
 * One view item per heartbeat shard (`VIEW#<shard>`): the shard's server loads plus a replica of the
 * fleet-wide summary (domain/fleet-shards.ts, adapters/dynamodb/fleet-repository.ts).
 */
export const fleetTable = {
  id: 'FleetTable',
  envVar: 'FLEET_TABLE_NAME',
  partitionKey: { name: 'pk', type: 'S' },
  globalSecondaryIndexes: [],
} as const satisfies TableDefinition;

/**
 * The inference servers operators registered (`npm run fleet`): partition = registry bucket
 * (`BUCKET#<n>`, n = hash of the id, domain/fleet-shards.ts), sort = server id. Read by the heartbeat,
 * one bucket query at a time; written only by operators.
 */
export const serverRegistryTable = {
  id: 'ServerRegistryTable',
  envVar: 'SERVER_REGISTRY_TABLE_NAME',
  partitionKey: { name: 'bucket', type: 'S' },
  sortKey: { name: 'id', type: 'S' },
  globalSecondaryIndexes: [],
} as const satisfies TableDefinition;

export const tables = [chatTable, fleetTable, serverRegistryTable] as const;

export interface QueueDefinition {
  readonly id: string;
  readonly envVar: string;
  readonly visibilityTimeoutSeconds: number;
  readonly deadLetter: {
    readonly id: string;
    readonly maxReceiveCount: number;
    readonly retentionDays: number;
  };
}

/** Durable buffer for turn writes that failed against DynamoDB after the SDK's retries. */
export const turnWritesQueue = {
  id: 'TurnWritesQueue',
  envVar: 'TURN_WRITES_QUEUE_URL',
  visibilityTimeoutSeconds: 60,
  deadLetter: { id: 'TurnWritesDlq', maxReceiveCount: 5, retentionDays: 14 },
} as const satisfies QueueDefinition;

export const queues = [turnWritesQueue] as const;

/**
 * Per-container stop inboxes (adapters/sqs/stop-inbox.ts): queues named `<prefix><ulid>` that chat
 * function containers create for themselves, so they are not CloudFormation resources; the stacks grant
 * on the name prefix. What each function may do with them is `stopInboxes` in its definition.
 */
export const stopInboxes = { envVar: 'STOP_INBOX_PREFIX' } as const;
/**
 * The origin secret: CloudFront sends it in `header` on every API request and the HTTP functions refuse a
 * request without it (functions/http/origin-guard.ts), so a Function URL called directly serves nobody.
 * The functions read it from Secrets Manager by the id in `envVar`.
 */
export const originSecret = {
  id: 'OriginSecret',
  envVar: 'ORIGIN_SECRET_ID',
  header: 'x-origin-verify',
} as const;

export type StopInboxAccess = 'own' | 'deliver' | 'sweep';

export type TableAccess = 'read' | 'readWrite';

export type HttpVerb = 'GET' | 'POST' | 'PATCH' | 'DELETE';

export interface RouteDefinition {
  /** Function id: CDK construct id and the local gateway's handler key. */
  readonly id: string;
  readonly method: HttpVerb;
  /** Every method the function serves, when more than `method` (CloudFront routes by path, not method). */
  readonly methods?: readonly HttpVerb[];
  /**
   * The CloudFront path pattern. A trailing `/*` serves every path below it (the function reads its
   * parameters from the path); the local gateway matches it as a prefix.
   */
  readonly path: string;
  /** More paths (or patterns) the same function serves, each a CloudFront behavior of its own. */
  readonly extraPaths?: readonly string[];
  /** Entry file, relative to the repository root; it exports `handler`. */
  readonly entry: string;
  /** Function URL invoke mode RESPONSE_STREAM (the handler is wrapped by streamifyResponse). */
  readonly streaming: boolean;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  readonly tables: Readonly<Partial<Record<(typeof tables)[number]['id'], TableAccess>>>;
  readonly queues: readonly (typeof queues)[number]['id'][];
  /** own: create, receive from and delete its inboxes; deliver: send a stop; sweep: list and delete. */
  readonly stopInboxes?: StopInboxAccess;
  /**
   * Talks to the inference servers: runs in the private fleet's subnets and may read its API key when the
   * deployment has them (lib/constructs/private-fleet-network.ts).
   */
  readonly reachesFleet?: boolean;
}

export const routes = [
  {
    id: 'PostChat',
    method: 'POST',
    path: '/chat',
    entry: 'functions/post-chat.ts',
    streaming: true,
    // Longest stream (token cap at the slowest rate) plus the final write; see MAX_TURN_SECONDS.
    timeoutSeconds: 300,
    // A streaming function is billed for the whole ~9 s stream, mostly waiting on the model: 128 MB is
    // the cheapest size, and the CPU it buys (~7 % of a vCPU) is well above what relaying a stream
    // needs (`npm run bench:first-token` measures CPU per token; `npm run model:cost` the bill).
    memoryMb: 128,
    tables: { ChatTable: 'readWrite', FleetTable: 'read' },
    queues: ['TurnWritesQueue'],
    stopInboxes: 'own',
    reachesFleet: true,
  },
  {
    id: 'GetHistory',
    method: 'GET',
    // DELETE erases the caller's history: the erase mark and the conversation items at once, the turns by
    // an erase job on the turn-writes queue (the persister deletes them).
    methods: ['GET', 'DELETE'],
    path: '/chat/history',
    // GET: where the caller's last erase stands (erasing, complete).
    extraPaths: ['/chat/history/erase'],
    entry: 'functions/get-history.ts',
    streaming: false,
    timeoutSeconds: 10,
    memoryMb: 256,
    tables: { ChatTable: 'readWrite' },
    queues: ['TurnWritesQueue'],
  },
  {
    id: 'ListConversations',
    method: 'GET',
    path: '/chat/conversations',
    entry: 'functions/list-conversations.ts',
    streaming: false,
    timeoutSeconds: 10,
    memoryMb: 256,
    tables: { ChatTable: 'read' },
    queues: [],
  },
  {
    id: 'EditConversation',
    method: 'PATCH',
    methods: ['PATCH', 'DELETE'],
    path: '/chat/conversations/*',
    entry: 'functions/edit-conversation.ts',
    streaming: false,
    // A delete removes a conversation's turns in batches before it answers, for up to 20 s; the rest, if
    // any, goes to an erase job on the turn-writes queue.
    timeoutSeconds: 30,
    memoryMb: 256,
    tables: { ChatTable: 'readWrite' },
    queues: ['TurnWritesQueue'],
  },
  {
    id: 'ExportHistory',
    method: 'GET',
    path: '/chat/export',
    entry: 'functions/export-history.ts',
    // The whole history as one JSON document, written page by page as it is read.
    streaming: true,
    timeoutSeconds: 300,
    memoryMb: 256,
    tables: { ChatTable: 'read' },
    queues: [],
  },
  {
    id: 'PostStore',
    method: 'POST',
    path: '/chat/store',
    entry: 'functions/post-store.ts',
    streaming: false,
    timeoutSeconds: 10,
    memoryMb: 256,
    tables: { ChatTable: 'readWrite' },
    queues: ['TurnWritesQueue'],
  },
  {
    // The OpenAI-compatible front door: POST /chat's pipeline (the same use cases, quotas, admission and
    // turns) in the chat-completions wire format (functions/http/openai/), so it is sized like PostChat.
    id: 'PostChatCompletions',
    method: 'POST',
    path: '/v1/chat/completions',
    entry: 'functions/post-chat-completions.ts',
    streaming: true,
    timeoutSeconds: 300,
    memoryMb: 128,
    // readWrite: the turn, and an API key's last use (functions/http/api-key-auth.ts).
    tables: { ChatTable: 'readWrite', FleetTable: 'read' },
    queues: ['TurnWritesQueue'],
    stopInboxes: 'own',
    reachesFleet: true,
  },
  {
    id: 'ListModels',
    method: 'GET',
    path: '/v1/models',
    entry: 'functions/list-models.ts',
    streaming: false,
    timeoutSeconds: 10,
    memoryMb: 256,
    // An API key's owner and its last use.
    tables: { ChatTable: 'readWrite' },
    queues: [],
  },
  {
    // API keys for clients that cannot log in to Cognito: create (POST), list (GET), revoke (DELETE {id}).
    id: 'ManageKeys',
    method: 'POST',
    methods: ['POST', 'GET', 'DELETE'],
    path: '/chat/keys',
    extraPaths: ['/chat/keys/*'],
    entry: 'functions/manage-keys.ts',
    streaming: false,
    timeoutSeconds: 10,
    memoryMb: 256,
    tables: { ChatTable: 'readWrite' },
    queues: [],
  },
  {
    // The API described (OpenAPI 3.1), built from contract/openapi/; no caller is needed to read it.
    id: 'GetOpenApi',
    method: 'GET',
    path: '/openapi.json',
    entry: 'functions/get-openapi.ts',
    streaming: false,
    timeoutSeconds: 10,
    memoryMb: 256,
    tables: {},
    queues: [],
  },
  {
    id: 'PostStop',
    method: 'POST',
    path: '/chat/stop',
    entry: 'functions/post-stop.ts',
    streaming: false,
    timeoutSeconds: 10,
    memoryMb: 256,
    tables: { ChatTable: 'readWrite' },
    queues: [],
    stopInboxes: 'deliver',
  },
] as const satisfies readonly RouteDefinition[];

/** The methods a route's function serves. */
export const routeMethods = (route: RouteDefinition): readonly HttpVerb[] => route.methods ?? [route.method];

/** Every path pattern a route's function serves. */
export const routePaths = (route: RouteDefinition): readonly string[] => [
  route.path,
  ...(route.extraPaths ?? []),
];

export type FunctionTrigger =
  | { readonly kind: 'schedule'; readonly everyMinutes: number }
  | { readonly kind: 'queue'; readonly queue: (typeof queues)[number]['id']; readonly batchSize: number };

/** Functions without a URL: run on a schedule or fed by a queue (locally: timers and an SQS poller). */
export interface BackgroundFunctionDefinition extends Omit<RouteDefinition, 'method' | 'path' | 'streaming'> {
  readonly trigger: FunctionTrigger;
}

export const backgroundFunctions = [
  {
    id: 'RunHeartbeat',
    entry: 'functions/run-heartbeat.ts',
    // EventBridge fires at most once a minute: each invocation loops for that minute (see the entry file).
    trigger: { kind: 'schedule', everyMinutes: 1 },
    timeoutSeconds: 75,
    memoryMb: 256,
    tables: { FleetTable: 'readWrite', ServerRegistryTable: 'read' },
    queues: [],
    reachesFleet: true,
  },
  {
    id: 'PersistTurns',
    entry: 'functions/persist-turns.ts',
    trigger: { kind: 'queue', queue: 'TurnWritesQueue', batchSize: 10 },
    // The queue's visibility timeout (60 s) must be at least six times this.
    timeoutSeconds: 10,
    memoryMb: 256,
    tables: { ChatTable: 'readWrite' },
    // An erase job that runs out of time sends its continuation back to the queue.
    queues: ['TurnWritesQueue'],
  },
  {
    id: 'SweepTurns',
    entry: 'functions/sweep-turns.ts',
    // Every minute: the windows whose leases ended in the last two (SWEEP_SPREAD_MS spreads them evenly).
    trigger: { kind: 'schedule', everyMinutes: 1 },
    timeoutSeconds: 60,
    memoryMb: 256,
    tables: { ChatTable: 'readWrite' },
    queues: [],
    stopInboxes: 'sweep',
  },
] as const satisfies readonly BackgroundFunctionDefinition[];

/** The Cognito group whose members are premium tier. */
export const PREMIUM_GROUP = 'premium';
