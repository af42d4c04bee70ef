/**
 * `npm run users -- <command>`: makes a user premium or free again (membership of the pool's premium
 * group), and lists users with their tier. A new account is free; the tier is read from the
 * `cognito:groups` claim of the ID token, so a change takes effect at the user's next ID token: when the
 * web client refreshes it (it lives 1 h) or at their next log-in.
 *
 * Which user pool (bin/user-directory.ts):
 * - On AWS: `--user-pool-id <id>` or USER_POOL_ID (the stateless stack's UserPoolId output), with the
 *   default AWS credentials and region (the SDK client, a dev dependency). The
 *   caller needs cognito-idp:AdminGetUser, AdminListGroupsForUser, AdminAddUserToGroup,
 *   AdminRemoveUserFromGroup, ListUsers and ListUsersInGroup on that pool.
 * - Locally (neither given): the running `npm start`'s cognito-local, found through `<DATA_DIR>/stack.json`.
 *
 * Exit codes: 0 done, 1 failed (unknown user, no stack, AWS error), 2 bad usage.
 */
import { parseArgs } from 'node:util';
import { PREMIUM_GROUP } from '../lib/resources';
import { DirectoryError, Failure, openDirectory, USER_POOL_ENV, type UserDirectory } from './user-directory';
import { retierApiKeys } from './user-keys';

const MAX_LISTED = 1000;

const USAGE = `Usage: npm run users -- <command> [--user-pool-id <id>]

Commands:
  premium <email>  put the user in the "${PREMIUM_GROUP}" group: premium tier
  free <email>     take the user out of it: free tier (every new account starts free)
  list [--json]    users: email, status, tier (at most ${MAX_LISTED})

A change takes effect at the user's next ID token: within the hour (the web client refreshes it), or at
once when they log out and in.

Options:
  --user-pool-id <id>  the user pool on AWS (default: $${USER_POOL_ENV}; the ChatStateless stack's
                       UserPoolId output), with the default AWS credentials and region
  -h, --help           this text

Without a user pool id it uses the local stack that \`npm start\` runs, found in $DATA_DIR/stack.json
(DATA_DIR defaults to .data).`;

/** Bad usage: exit code 2. */
class UsageError extends Error {}

const EMAIL = /^[^\s@]+@[^\s@]+$/;

interface CognitoUser {
  readonly Username?: string;
  readonly UserStatus?: string;
  readonly Enabled?: boolean;
  readonly Attributes?: readonly { Name?: string; Value?: string }[];
  readonly UserAttributes?: readonly { Name?: string; Value?: string }[];
}

const emailOf = (user: CognitoUser) =>
  [...(user.Attributes ?? []), ...(user.UserAttributes ?? [])].find((a) => a.Name === 'email')?.Value ??
  user.Username ??
  '';

async function groupsOf(directory: UserDirectory, username: string): Promise<string[]> {
  const { Groups = [] } = await directory.call<{ Groups?: { GroupName?: string }[] }>(
    'AdminListGroupsForUser',
    { UserPoolId: directory.userPoolId, Username: username },
  );
  return Groups.flatMap((group) => (group.GroupName ? [group.GroupName] : []));
}

/** Every page of a paginated list, up to MAX_LISTED items. */
async function pages<T>(
  fetchPage: (token: string | undefined) => Promise<{ items: T[]; next: string | undefined }>,
): Promise<{ items: T[]; truncated: boolean }> {
  const items: T[] = [];
  let token: string | undefined;
  do {
    const page = await fetchPage(token);
    items.push(...page.items);
    token = page.next;
  } while (token !== undefined && items.length < MAX_LISTED);
  return { items: items.slice(0, MAX_LISTED), truncated: token !== undefined || items.length > MAX_LISTED };
}

async function setTier(directory: UserDirectory, email: string, premium: boolean): Promise<string> {
  // AdminGetUser first: an unknown email gets a clear message, not a group error. The calls after it use
  // the pool's own username (a uuid when email is an alias), which cognito-local's group lookup needs.
  const found = await directory.call<CognitoUser>('AdminGetUser', {
    UserPoolId: directory.userPoolId,
    Username: email,
  });
  const input = { UserPoolId: directory.userPoolId, Username: found.Username ?? email };
  const before = (await groupsOf(directory, input.Username)).includes(PREMIUM_GROUP);
  if (before === premium) return `${email} is already ${premium ? 'premium' : 'free'} in ${directory.where}.`;
  await directory.call(premium ? 'AdminAddUserToGroup' : 'AdminRemoveUserFromGroup', {
    ...input,
    GroupName: PREMIUM_GROUP,
  });
  const done = `${email} is now ${premium ? 'premium' : 'free'} in ${directory.where}.\nIt takes effect at their next ID token: within the hour, or at once when they log out and in.`;
  // Their API keys carry the tier themselves: re-tiered here, they act with the new one within a minute.
  const sub = found.UserAttributes?.find((attribute) => attribute.Name === 'sub')?.Value;
  if (!directory.chatTable || !sub) {
    return `${done}\nTheir API keys keep the old tier until they next call /chat/keys (set CHAT_TABLE_NAME to re-tier them now).`;
  }
  const keys = await retierApiKeys(directory.chatTable, sub, premium ? 'premium' : 'free');
  return `${done}\nTheir ${keys} API key${keys === 1 ? '' : 's'} act${keys === 1 ? 's' : ''} with the new tier within a minute.`;
}

async function list(directory: UserDirectory, json: boolean): Promise<string> {
  const UserPoolId = directory.userPoolId;
  const users = await pages<CognitoUser>(async (PaginationToken) => {
    const page = await directory.call<{ Users?: CognitoUser[]; PaginationToken?: string }>('ListUsers', {
      UserPoolId,
      Limit: 60,
      ...(PaginationToken ? { PaginationToken } : {}),
    });
    return { items: page.Users ?? [], next: page.PaginationToken };
  });
  const premium = await pages<CognitoUser>(async (NextToken) => {
    const page = await directory.call<{ Users?: CognitoUser[]; NextToken?: string }>('ListUsersInGroup', {
      UserPoolId,
      GroupName: PREMIUM_GROUP,
      Limit: 60,
      ...(NextToken ? { NextToken } : {}),
    });
    return { items: page.Users ?? [], next: page.NextToken };
  });
  const premiumEmails = new Set(premium.items.map(emailOf));
  const rows = users.items
    .map((user) => ({
      email: emailOf(user),
      status: user.Enabled === false ? 'DISABLED' : (user.UserStatus ?? ''),
      tier: premiumEmails.has(emailOf(user)) ? 'premium' : 'free',
    }))
    .sort((a, b) => a.email.localeCompare(b.email));
  if (json) return JSON.stringify(rows);
  if (rows.length === 0) return `No user in ${directory.where}.`;
  const width = Math.max(5, ...rows.map((row) => row.email.length));
  const statusWidth = Math.max(6, ...rows.map((row) => row.status.length));
  const lines = [
    `${'EMAIL'.padEnd(width)}  ${'STATUS'.padEnd(statusWidth)}  TIER`,
    ...rows.map((row) => `${row.email.padEnd(width)}  ${row.status.padEnd(statusWidth)}  ${row.tier}`),
  ];
  const count = rows.filter((row) => row.tier === 'premium').length;
  const more = users.truncated ? ` (the first ${MAX_LISTED})` : '';
  return `${lines.join('\n')}\n\n${rows.length} user${rows.length === 1 ? '' : 's'}${more}, ${count} premium, in ${directory.where}.`;
}

function explain(error: DirectoryError, directory: UserDirectory, email: string | undefined): string {
  if (error.type === 'UserNotFoundException') {
    return `No user ${email ?? ''} in ${directory.where}. \`npm run users -- list\` shows them.`;
  }
  if (error.type === 'ResourceNotFoundException') {
    return directory.local
      ? `${directory.where} has no "${PREMIUM_GROUP}" group or pool: restart the local stack.`
      : `No ${directory.where} (or no "${PREMIUM_GROUP}" group in it): check --user-pool-id and AWS_REGION.`;
  }
  if (error.type === 'CredentialsProviderError') {
    return `No AWS credentials (${error.message}). Set AWS_PROFILE, run \`aws sso login\`, or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.`;
  }
  return `${error.type}: ${error.message}`;
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      'user-pool-id': { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

function validate(command: string | undefined, args: readonly string[], json: boolean): void {
  if (command === undefined) throw new UsageError('No command given.');
  if (!['premium', 'free', 'list'].includes(command)) throw new UsageError(`Unknown command "${command}".`);
  if (json && command !== 'list') throw new UsageError('--json applies to list only.');
  if (command === 'list') {
    if (args.length > 0) throw new UsageError('list takes no argument.');
    return;
  }
  if (args.length !== 1) throw new UsageError(`${command} takes one argument, the user's email.`);
  if (!EMAIL.test(args[0] ?? '')) throw new UsageError(`"${args[0]}" is not an email address.`);
}

async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const fail = (code: 1 | 2, message: string) => {
    process.stderr.write(code === 2 ? `${message}\n\n${USAGE}\n` : `${message}\n`);
    return code;
  };
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    return fail(2, error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  if (values.help || positionals[0] === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const [command, ...args] = positionals;
  const poolId = values['user-pool-id'];
  try {
    validate(command, args, values.json === true);
    if (poolId !== undefined && poolId.trim() === '') throw new UsageError('--user-pool-id needs an id.');
  } catch (error) {
    if (error instanceof UsageError) return fail(2, error.message);
    throw error;
  }
  let directory: UserDirectory;
  try {
    directory = await openDirectory(poolId?.trim(), env);
  } catch (error) {
    if (error instanceof Failure) return fail(1, error.message);
    throw error;
  }
  // Emails are case-insensitive in the pool (signInCaseSensitive: false).
  const email = args[0]?.trim().toLowerCase();
  try {
    const output =
      command === 'list'
        ? await list(directory, values.json === true)
        : await setTier(directory, email ?? '', command === 'premium');
    process.stdout.write(`${output}\n`);
    return 0;
  } catch (error) {
    if (error instanceof DirectoryError) return fail(1, explain(error, directory, email));
    if (error instanceof Failure) return fail(1, error.message);
    throw error;
  } finally {
    directory.close();
  }
}

process.exitCode = await main(process.argv.slice(2), process.env);
