/**
 * The whole app on one machine: the emulators, the simulated inference fleet, and the real handler
 * modules behind a local Function URL gateway — same code as on AWS, different endpoints.
 *
 * Order matters: the environment the handlers read at cold start is set, and the awslambda shim
 * installed, BEFORE their modules are imported (they build SDK clients and read config at load).
 * The server registry is seeded with the servers the stack knows (local/registry-seed.ts), and
 * `<dataDir>/stack.json` tells `npm run fleet` (bin/fleet.ts) where the running stack's tables are.
 * A process holds one stack: handler modules are cached, so a second stack in the same process
 * would keep the first one's clients. Tests that need several stacks spawn local/main.ts.
 */

import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { createDocumentClient } from '../adapters/dynamodb/clients';
import { DynamoDbServerRegistry } from '../adapters/dynamodb/server-registry';
import { parseFleetServers } from '../adapters/fleet/server-registry';
import type { PublicConfig } from '../contract/public-config';
import {
  DEFAULT_SERVER_CAPACITY,
  InvalidServerRegistration,
  parseServerCapacity,
} from '../domain/server-registration';
import {
  originSecret,
  queues,
  routes as routeDefinitions,
  serverRegistryTable,
  stopInboxes,
  tables,
} from '../lib/resources';
import { securityHeaders } from '../lib/security-headers';
import { SETTINGS } from '../settings/settings';
import type { BackgroundContext, BackgroundTask, StopFunction } from './background/task';
import { localBackgroundTasks } from './background/tasks';
import { type LocalCognito, startCognito } from './emulators/cognito';
import { type CodeListener, describeCode } from './emulators/cognito-codes';
import { createLocalDynamoDbClient, ensureTables, startDynamoDb } from './emulators/dynamodb';
import { type LocalSecretsManager, startSecretsManager } from './emulators/secrets-manager';
import { startSqs } from './emulators/sqs';
import { type FleetHandle, type FleetOptions, fleetOptionsFromEnv, startFleet } from './fleet/fleet';
import { installAwsLambdaShim } from './gateway/awslambda-shim';
import {
  type Gateway,
  type GatewayLogger,
  type GatewayRoute,
  startGateway,
  stdoutLogger,
} from './gateway/server';
import { loadHandler } from './handlers';
import { seedServerRegistry } from './registry-seed';
import { REPO_ROOT } from './repo-root';
import { removeStackFile, writeStackFile } from './stack-file';

export type { BackgroundContext, BackgroundTask, StopFunction };

const REGION = 'us-east-1';
/** The local secret holding LOCAL_FLEET_API_KEY (rotate it with `secretsManager.put`). */
export const FLEET_API_KEY_SECRET = 'local-fleet-api-key';

/** The local stand-ins for schedules and event source mappings (local/background/). */
export const defaultBackgroundTasks: readonly BackgroundTask[] = localBackgroundTasks;

export interface LocalStackOptions {
  /**
   * Root of all local state: dynamodb/ (dynalite files), cognito/ (cognito-local state), sqs/ (queue journal),
   * and stack.json while the stack runs (local/stack-file.ts: how `npm run fleet` finds it).
   */
  readonly dataDir?: string;
  readonly host?: string;
  /** Gateway port; 0 picks a free one. */
  readonly port?: number;
  /** Overrides over the LOCAL_FLEET_* environment (fleetOptionsFromEnv). */
  readonly fleet?: FleetOptions;
  /** Extra environment for the handlers, applied last (after the endpoints and names the stack sets). */
  readonly env?: Readonly<Record<string, string>>;
  /** Defaults to `defaultBackgroundTasks`. */
  readonly backgroundTasks?: readonly BackgroundTask[];
  /** Defaults to web/. */
  readonly staticDir?: string;
  readonly log?: GatewayLogger;
  /**
   * Each code Cognito would email (sign-up, forgot password). Default: one plain line on stdout,
   * `Verification code for a@b.c: 123456`, so a person can sign up locally.
   */
  readonly onCode?: CodeListener;
}

export interface LocalStack {
  readonly url: string;
  readonly config: PublicConfig;
  readonly cognito: LocalCognito;
  readonly fleet: FleetHandle | undefined;
  readonly gateway: Gateway;
  readonly dynamoEndpoint: string;
  readonly queueUrls: Readonly<Record<string, string>>;
  /** The local Secrets Manager the functions read their secrets from (rotate with `put`). */
  readonly secretsManager: LocalSecretsManager;
  /** The environment the stack set for the handlers. */
  readonly env: Readonly<Record<string, string>>;
  stop(): Promise<void>;
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const startedAt = Date.now();
  const dataDir = resolve(options.dataDir ?? '.data');
  const host = options.host ?? '127.0.0.1';
  const log = options.log ?? stdoutLogger;
  // Stopped in reverse order of start, also when starting fails halfway.
  const stops: { name: string; stop: StopFunction }[] = [];
  const stopAll = async () => {
    while (stops.length > 0) {
      const next = stops.pop();
      if (!next) break;
      try {
        await next.stop();
      } catch (error) {
        log({ level: 'error', msg: 'stop_failed', component: next.name, error: String(error) });
      }
    }
  };

  const settings = { ...process.env, ...options.env };
  try {
    // INFERENCE_SERVERS: talk to these OpenAI-compatible servers (a real vLLM, or a fleet a test controls)
    // instead of starting the simulated one. Format: id=baseUrl[|capacity],… (adapters/fleet/server-registry.ts).
    const externalServers = settings.INFERENCE_SERVERS;
    const externalRegistrations = externalServers
      ? parseFleetServers(externalServers, defaultServerCapacity(settings))
      : undefined;

    // LOCAL_DYNAMODB_ENDPOINT: use another DynamoDB API (DynamoDB Local, a fault-injecting proxy) instead of
    // the embedded dynalite; the tables are still created from lib/resources.ts.
    const externalDynamo = settings.LOCAL_DYNAMODB_ENDPOINT;
    const dynamo = externalDynamo
      ? { endpoint: externalDynamo }
      : await startDynamoDb({ path: join(dataDir, 'dynamodb'), host });
    if ('close' in dynamo) stops.push({ name: 'dynamodb', stop: () => dynamo.close() });
    const dynamoClient = createLocalDynamoDbClient(dynamo.endpoint);
    try {
      await ensureTables(dynamoClient);
    } finally {
      dynamoClient.destroy();
    }

    const sqs = await startSqs({ host, dataDir });
    stops.push({ name: 'sqs', stop: () => sqs.close() });

    const fleetOptions = { ...fleetOptionsFromEnv(settings), host, ...options.fleet };
    // Seeded with the secrets the functions read by name (names set in `env` below). LOCAL_FLEET_API_KEY:
    // the simulated servers (or INFERENCE_SERVERS) require it, and the functions read it from here, as on AWS.
    // The origin secret is new on every start, as only the gateway (CloudFront's stand-in) must know it.
    const originSecretValue = randomBytes(32).toString('base64url');
    const secretSeeds: Record<string, string> = { [originSecret.id]: originSecretValue };
    if (fleetOptions.apiKey) secretSeeds[FLEET_API_KEY_SECRET] = fleetOptions.apiKey;
    const secretsManager = await startSecretsManager({ host, secrets: secretSeeds });
    stops.push({ name: 'secrets-manager', stop: () => secretsManager.close() });

    const cognito = await startCognito({ dataDir, host });
    stops.push({ name: 'cognito', stop: () => cognito.close() });
    cognito.onCode(options.onCode ?? ((delivery) => process.stdout.write(`${describeCode(delivery)}\n`)));

    const fleet = externalServers ? undefined : await startFleet(fleetOptions);
    if (fleet) stops.push({ name: 'fleet', stop: () => fleet.close() });
    // A server's capacity: its batch slots plus a short queue of three, each of which waits well under a
    // second at the simulated speeds, so a full server still meets the first-token objective.
    const capacity = (fleetOptions.slots ?? 8) + 3;
    const registrations =
      externalRegistrations ?? (fleet?.servers ?? []).map(({ id, baseUrl }) => ({ id, baseUrl, capacity }));
    const inferenceServers =
      externalServers ??
      registrations.map((server) => `${server.id}=${server.baseUrl}|${server.capacity}`).join(',');
    log({ level: 'info', msg: 'inference_servers', servers: inferenceServers });
    // The heartbeat reads the servers from the registry: register these (operators' own entries stay).
    const registryClient = createLocalDynamoDbClient(dynamo.endpoint);
    const seeded = await seedServerRegistry(
      new DynamoDbServerRegistry(createDocumentClient(registryClient), serverRegistryTable.id),
      registrations,
      { keepDraining: externalRegistrations !== undefined },
    ).finally(() => registryClient.destroy());
    log({ level: 'info', msg: 'server_registry_seeded', ...seeded });

    const env: Record<string, string> = {
      AWS_REGION: REGION,
      AWS_DEFAULT_REGION: REGION,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ENDPOINT_URL_SQS: sqs.endpoint,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsManager.endpoint,
      USER_POOL_ISSUER: cognito.issuer,
      USER_POOL_CLIENT_ID: cognito.userPoolClientId,
      POWERTOOLS_SERVICE_NAME: 'chat',
      [stopInboxes.envVar]: 'local-stop-',
      [originSecret.envVar]: originSecret.id,
      ...(fleetOptions.apiKey
        ? { [SETTINGS.inferenceApiKeySecretId.variable]: secretsManager.arn(FLEET_API_KEY_SECRET) }
        : {}),
    };
    for (const table of tables) env[table.envVar] = table.id;
    for (const queue of queues) {
      const queueUrl = sqs.queueUrls[queue.id];
      if (queueUrl === undefined) throw new Error(`SQS emulator has no queue ${queue.id}`);
      env[queue.envVar] = queueUrl;
    }
    Object.assign(env, options.env);
    for (const [name, value] of Object.entries(env)) process.env[name] = value;

    installAwsLambdaShim();
    const routes: GatewayRoute[] = [];
    for (const definition of routeDefinitions) {
      routes.push({ definition, handler: await loadHandler(definition.entry) });
    }

    const config: PublicConfig = {
      region: cognito.region,
      userPoolId: cognito.userPoolId,
      userPoolClientId: cognito.userPoolClientId,
      cognitoEndpoint: cognito.endpoint,
    };
    const configJson = JSON.stringify(config);
    const gateway = await startGateway({
      host,
      port: options.port ?? 3000,
      routes,
      staticDir: options.staticDir ?? join(REPO_ROOT, 'web'),
      // The browser reaches cognito-local directly, as it reaches Cognito on AWS.
      staticHeaders: securityHeaders([new URL(cognito.issuer).origin]),
      originHeaders: { [originSecret.header]: originSecretValue },
      log,
      extraRoutes: [
        {
          method: 'GET',
          path: '/config.json',
          handle: (_req, res) => {
            res
              .writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' })
              .end(configJson);
          },
        },
      ],
    });
    stops.push({ name: 'gateway', stop: () => gateway.close() });

    const context: BackgroundContext = {
      startedAt,
      env,
      dynamoEndpoint: dynamo.endpoint,
      queueUrls: sqs.queueUrls,
      fleet,
      log,
    };
    for (const task of options.backgroundTasks ?? defaultBackgroundTasks) {
      stops.push({ name: task.name, stop: await task.start(context) });
    }

    // How `npm run fleet` finds this stack; removed first on stop (pushed last).
    await writeStackFile(dataDir, {
      dynamoEndpoint: dynamo.endpoint,
      region: REGION,
      tables: Object.fromEntries(tables.map((table) => [table.envVar, table.id])),
      pid: process.pid,
      url: gateway.url,
      startedAt,
      cognito: { endpoint: cognito.endpoint, userPoolId: cognito.userPoolId },
    });
    stops.push({ name: 'stack-file', stop: () => removeStackFile(dataDir) });

    let stopping: Promise<void> | undefined;
    return {
      url: gateway.url,
      config,
      cognito,
      fleet,
      gateway,
      dynamoEndpoint: dynamo.endpoint,
      queueUrls: sqs.queueUrls,
      secretsManager,
      env,
      stop: () => {
        stopping ??= stopAll();
        return stopping;
      },
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** DEFAULT_SERVER_CAPACITY: the capacity of an INFERENCE_SERVERS entry without `|capacity`. */
function defaultServerCapacity(settings: Readonly<Record<string, string | undefined>>): number {
  const raw = settings.DEFAULT_SERVER_CAPACITY;
  if (raw === undefined || raw.trim() === '') return DEFAULT_SERVER_CAPACITY;
  try {
    return parseServerCapacity(raw);
  } catch (error) {
    if (error instanceof InvalidServerRegistration) {
      throw new Error(`DEFAULT_SERVER_CAPACITY is malformed (${JSON.stringify(raw)}): ${error.message}.`);
    }
    throw error;
  }
}
