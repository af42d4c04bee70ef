/**
 * A small Secrets Manager on the real wire protocol (AWS JSON 1.1: `POST /`, `X-Amz-Target:
 * secretsmanager.<Operation>`), so the functions read their secrets locally through the same SDK client
 * and code path as on AWS (AWS_ENDPOINT_URL_SECRETS_MANAGER points the SDK here). No npm emulator for
 * Secrets Manager exists that runs on Node; this one serves what the app uses:
 * - GetSecretValue by SecretId (name or ARN) and VersionStage (AWSCURRENT default, AWSPREVIOUS);
 * - PutSecretValue: the new value becomes AWSCURRENT and the old one AWSPREVIOUS, as a rotation does;
 * - CreateSecret.
 * Errors use the service's shape (`__type` + `message`, HTTP 400). In memory: secrets are seeded at start.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export const LOCAL_SECRETS_REGION = 'us-east-1';
const ACCOUNT_ID = '123456789012';
/** Requests are a few hundred bytes; a body past this is refused rather than buffered. */
const MAX_REQUEST_BYTES = 64 * 1024;

export interface LocalSecretsManager {
  readonly endpoint: string;
  /** The ARN of a secret by name. */
  arn(name: string): string;
  /** Rotates a secret from outside (tests, `npm start` seeds): same effect as PutSecretValue. */
  put(name: string, value: string): void;
  close(): Promise<void>;
}

interface SecretVersion {
  readonly id: string;
  readonly value: string;
  readonly createdAt: number;
}

interface StoredSecret {
  readonly name: string;
  current: SecretVersion;
  previous?: SecretVersion;
}

class ServiceError extends Error {
  public constructor(
    public readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

function arnOf(name: string): string {
  // Real ARNs end in a random 6-character suffix; clients must not parse them, so a fixed one does.
  return `arn:aws:secretsmanager:${LOCAL_SECRETS_REGION}:${ACCOUNT_ID}:secret:${name}-local0`;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_REQUEST_BYTES) chunks.push(chunk);
    });
    req.on('end', () =>
      size > MAX_REQUEST_BYTES
        ? reject(new ServiceError('InvalidRequestException', 'request too large'))
        : resolve(Buffer.concat(chunks).toString('utf8')),
    );
    req.on('error', reject);
  });
}

export async function startSecretsManager(
  options: { host?: string; port?: number; secrets?: Readonly<Record<string, string>> } = {},
): Promise<LocalSecretsManager> {
  const secrets = new Map<string, StoredSecret>();
  const version = (value: string): SecretVersion => ({ id: randomUUID(), value, createdAt: Date.now() });
  const put = (name: string, value: string): SecretVersion => {
    const existing = secrets.get(name);
    const next = version(value);
    if (existing) {
      existing.previous = existing.current;
      existing.current = next;
    } else {
      secrets.set(name, { name, current: next });
    }
    return next;
  };
  for (const [name, value] of Object.entries(options.secrets ?? {})) put(name, value);

  const find = (secretId: unknown): StoredSecret => {
    if (typeof secretId !== 'string' || secretId === '') {
      throw new ServiceError('InvalidParameterException', 'SecretId is required');
    }
    const found = [...secrets.values()].find(
      (secret) => secret.name === secretId || arnOf(secret.name) === secretId,
    );
    if (!found) {
      throw new ServiceError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    }
    return found;
  };

  const operations: Record<string, (input: Record<string, unknown>) => unknown> = {
    GetSecretValue: (input) => {
      const secret = find(input.SecretId);
      const stage = input.VersionStage ?? 'AWSCURRENT';
      const chosen =
        stage === 'AWSCURRENT' ? secret.current : stage === 'AWSPREVIOUS' ? secret.previous : undefined;
      if (!chosen) {
        throw new ServiceError(
          'ResourceNotFoundException',
          `Secrets Manager can't find the specified secret value for staging label: ${String(stage)}`,
        );
      }
      return {
        ARN: arnOf(secret.name),
        Name: secret.name,
        SecretString: chosen.value,
        VersionId: chosen.id,
        VersionStages: [stage],
        CreatedDate: chosen.createdAt / 1000,
      };
    },
    PutSecretValue: (input) => {
      const secret = find(input.SecretId);
      if (typeof input.SecretString !== 'string') {
        throw new ServiceError('InvalidParameterException', 'SecretString is required');
      }
      const next = put(secret.name, input.SecretString);
      return {
        ARN: arnOf(secret.name),
        Name: secret.name,
        VersionId: next.id,
        VersionStages: ['AWSCURRENT'],
      };
    },
    CreateSecret: (input) => {
      if (typeof input.Name !== 'string' || input.Name === '') {
        throw new ServiceError('InvalidParameterException', 'Name is required');
      }
      if (secrets.has(input.Name)) {
        throw new ServiceError('ResourceExistsException', `The secret ${input.Name} already exists.`);
      }
      const created = put(input.Name, typeof input.SecretString === 'string' ? input.SecretString : '');
      return { ARN: arnOf(input.Name), Name: input.Name, VersionId: created.id };
    },
  };

  const server: Server = createServer((req, res) => {
    const answer = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify(body));
    };
    const target = String(req.headers['x-amz-target'] ?? '');
    const operation = operations[target.replace(/^secretsmanager\./, '')];
    readBody(req)
      .then((text) => {
        if (req.method !== 'POST' || !operation) {
          throw new ServiceError('UnknownOperationException', `Unsupported operation ${target}`);
        }
        const input: unknown = text === '' ? {} : JSON.parse(text);
        if (typeof input !== 'object' || input === null) {
          throw new ServiceError('InvalidRequestException', 'body must be a JSON object');
        }
        answer(200, operation(input as Record<string, unknown>));
      })
      .catch((error: unknown) => {
        const failure =
          error instanceof ServiceError ? error : new ServiceError('InvalidRequestException', String(error));
        answer(400, { __type: failure.type, message: failure.message });
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  return {
    endpoint: `http://${host}:${port}`,
    arn: arnOf,
    put: (name, value) => {
      put(name, value);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
