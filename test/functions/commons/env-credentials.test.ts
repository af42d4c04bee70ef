import { afterEach, describe, expect, it } from 'vitest';
import { defaultProvider } from '../../../functions/commons/env-credentials';

const KEYS = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE'] as const;
const saved = Object.fromEntries(KEYS.map((key) => [key, process.env[key]]));

afterEach(() => {
  for (const key of KEYS) {
    if (saved[key] === undefined) delete process.env[key];
    else process.env[key] = saved[key];
  }
});

describe('the credentials of the Lambda bundles', () => {
  it("are the execution role's, from the environment", async () => {
    Object.assign(process.env, {
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'secret',
      AWS_SESSION_TOKEN: 'token',
    });
    await expect(defaultProvider()()).resolves.toMatchObject({
      accessKeyId: 'AKIDEXAMPLE',
      secretAccessKey: 'secret',
      sessionToken: 'token',
    });
  });

  it('fail without them, never falling back to profiles or instance metadata', async () => {
    for (const key of KEYS) delete process.env[key];
    process.env.AWS_PROFILE = 'default';
    await expect(defaultProvider()()).rejects.toThrow(/environment/i);
  });
});
