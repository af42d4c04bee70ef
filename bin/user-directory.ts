/**
 * The user pool `npm run users` (bin/users.ts) changes: the running local stack's cognito-local, or a
 * Cognito user pool on AWS. Both speak the same JSON protocol, so the commands are written once against
 * `call(operation, input)`; only the transport differs.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  AdminAddUserToGroupCommand,
  AdminGetUserCommand,
  AdminListGroupsForUserCommand,
  AdminRemoveUserFromGroupCommand,
  CognitoIdentityProviderClient,
  ListUsersCommand,
  ListUsersInGroupCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { chatTable } from '../lib/resources';
import { CognitoError, cognitoCall } from '../local/emulators/cognito';
import { stringFromEnv } from '../local/env';
import { isProcessAlive, readStackFile, stackFilePath } from '../local/stack-file';
import type { ChatTableLocation } from './user-keys';

/** The command could not be done: exit code 1. */
export class Failure extends Error {}

/** A refusal by Cognito: `type` is its exception name (UserNotFoundException…). */
export class DirectoryError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

export interface UserDirectory {
  readonly userPoolId: string;
  /** For messages: "user pool X in eu-west-1", or "the local stack's user pool (endpoint, data in …)". */
  readonly where: string;
  readonly local: boolean;
  /** The chat table, whose API keys carry their owner's tier; absent when unknown (CHAT_TABLE_NAME unset on AWS). */
  readonly chatTable?: ChatTableLocation;
  call<T>(operation: string, input: Record<string, unknown>): Promise<T>;
  close(): void;
}

export const USER_POOL_ENV = 'USER_POOL_ID';

/** The operations bin/users.ts calls, as SDK commands for the AWS path. */
// biome-ignore lint/suspicious/noExplicitAny: each command takes its own input shape; call() passes it through.
const COMMANDS: Readonly<Record<string, new (input: any) => any>> = {
  AdminAddUserToGroup: AdminAddUserToGroupCommand,
  AdminGetUser: AdminGetUserCommand,
  AdminListGroupsForUser: AdminListGroupsForUserCommand,
  AdminRemoveUserFromGroup: AdminRemoveUserFromGroupCommand,
  ListUsers: ListUsersCommand,
  ListUsersInGroup: ListUsersInGroupCommand,
};

export async function openDirectory(
  userPoolId: string | undefined,
  env: NodeJS.ProcessEnv,
): Promise<UserDirectory> {
  const awsPool = userPoolId ?? (env[USER_POOL_ENV]?.trim() || undefined);
  return awsPool === undefined
    ? openLocal(env)
    : openAws(awsPool, env[chatTable.envVar]?.trim() || undefined);
}

async function openAws(userPoolId: string, chatTableName: string | undefined): Promise<UserDirectory> {
  const client = new CognitoIdentityProviderClient({});
  const region = await client.config.region().catch(() => undefined);
  if (!region) {
    client.destroy();
    throw new Failure('No AWS region: set AWS_REGION, or AWS_PROFILE with a region in ~/.aws/config.');
  }
  return {
    userPoolId,
    where: `user pool ${userPoolId} in ${region}`,
    local: false,
    ...(chatTableName ? { chatTable: { tableName: chatTableName } } : {}),
    async call<T>(operation: string, input: Record<string, unknown>): Promise<T> {
      const Command = COMMANDS[operation];
      if (Command === undefined) throw new Error(`No Cognito command ${operation}`);
      try {
        return (await client.send(new Command(input))) as T;
      } catch (error) {
        // No HTTP status: the request never got an answer (network, credentials, region).
        if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === undefined) {
          throw new Failure(`Cannot reach user pool ${userPoolId} in ${region}: ${String(error)}`);
        }
        const name = error instanceof Error ? error.name : 'Error';
        throw new DirectoryError(name, error instanceof Error ? error.message : String(error));
      }
    },
    close: () => client.destroy(),
  };
}

async function openLocal(env: NodeJS.ProcessEnv): Promise<UserDirectory> {
  const dataDir = resolve(stringFromEnv(env, 'DATA_DIR', '.data'));
  const path = stackFilePath(dataDir);
  const stack = await readStackFile(dataDir).catch((error: unknown) => {
    throw new Failure(error instanceof Error ? error.message : String(error));
  });
  const start = `Start it with \`npm start\`${env.DATA_DIR ? ` (DATA_DIR=${env.DATA_DIR})` : ''} and retry`;
  const orAws = `for a user pool on AWS, set ${USER_POOL_ENV} or pass --user-pool-id`;
  if (stack === undefined) {
    const why = existsSync(join(dataDir, 'cognito'))
      ? `The local stack is not running: ${path} is missing, though ${join(dataDir, 'cognito')} holds its users.`
      : `No local stack in ${dataDir} (no ${path}) and no user pool named.`;
    throw new Failure(`${why} ${start}, or ${orAws}.`);
  }
  if (!isProcessAlive(stack.pid)) {
    throw new Failure(
      `The local stack is not running: ${path} names process ${stack.pid}, which has exited (killed?). ${start}.`,
    );
  }
  if (stack.cognito === undefined) {
    throw new Failure(`${path} names no user pool (a stack started before \`npm run users\`): restart it.`);
  }
  const { endpoint, userPoolId } = stack.cognito;
  const chatTableName = stack.tables[chatTable.envVar];
  return {
    userPoolId,
    where: `the local stack's user pool (${endpoint}, data in ${dataDir})`,
    local: true,
    ...(chatTableName ? { chatTable: { tableName: chatTableName, endpoint: stack.dynamoEndpoint } } : {}),
    async call<T>(operation: string, input: Record<string, unknown>): Promise<T> {
      try {
        return await cognitoCall<T>(endpoint, operation, input);
      } catch (error) {
        if (error instanceof CognitoError) throw new DirectoryError(error.type, error.message);
        const cause = (error as { cause?: { code?: unknown } }).cause?.code;
        throw new Failure(
          `Cannot reach ${endpoint} (${typeof cause === 'string' ? cause : String(error)}): is the local stack still running?`,
        );
      }
    },
    close: () => undefined,
  };
}
