import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * `npm run test:unit`: every test that needs no emulator, no spawned stack and no socket — the pure
 * policies, the use cases over in-memory ports, the contract, the settings, the wire codecs, the
 * simulation's models and the web client's pure modules. A test file is left out when it imports a
 * test emulator or server, or opens a listener; test/setup/no-network.ts fails any test that slips
 * through and opens a socket anyway. `npm test` runs everything.
 */
const root = fileURLToPath(new URL('..', import.meta.url));
const NEEDS_A_SOCKET =
  /support\/(dynamodb|local-stack|fleet-cli|fault-proxy)|emulators\/|local\/fleet\/(server|fleet)|local\/stack|local\/gateway\/server|createServer|\.listen\(|aws-cdk-lib/;
const OWN_SUITES = /^test\/(e2e|faults|browser\/(?!unit\/))/;

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return testFiles(path);
    return entry.name.endsWith('.test.ts') ? [relative(root, path)] : [];
  });
}

/** True when the file, or a test helper it imports (two levels deep), starts a server or an emulator. */
function needsASocket(path: string, depth = 0): boolean {
  const text = readFileSync(path, 'utf8');
  if (NEEDS_A_SOCKET.test(text)) return true;
  if (depth === 2) return false;
  const helpers = [...text.matchAll(/from '(\.{1,2}\/[^']+)'/g)]
    .map((match) => resolve(dirname(path), `${match[1]}.ts`))
    .filter((helper) => relative(root, helper).startsWith('test/'));
  return helpers.some((helper) => {
    try {
      return needsASocket(helper, depth + 1);
    } catch {
      return false; // not a .ts helper (a fixture file, a folder index)
    }
  });
}

const unitFiles = testFiles(join(root, 'test')).filter(
  (file) => !OWN_SUITES.test(file) && !needsASocket(join(root, file)),
);

export default defineConfig({
  test: {
    root,
    include: unitFiles,
    setupFiles: ['test/setup/awslambda.ts', 'test/setup/no-network.ts'],
    testTimeout: 30_000,
    pool: 'threads',
  },
});
