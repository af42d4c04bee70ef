/**
 * The codes cognito-local would email, as local/emulators/cognito-local-child.cjs reports them: one JSON
 * line per code on the child's fd 3. Locally they are not secrets (there is no mailbox to protect); a
 * password never travels on this pipe.
 */
import type { Readable } from 'node:stream';

export type CodePurpose = 'verification' | 'password-reset' | 'attribute-verification';

export interface DeliveredCode {
  readonly email: string;
  readonly code: string;
  readonly purpose: CodePurpose;
}

export type CodeListener = (delivery: DeliveredCode) => void;

const PURPOSES: Readonly<Record<string, CodePurpose>> = {
  SignUp: 'verification',
  ResendCode: 'verification',
  ForgotPassword: 'password-reset',
  VerifyUserAttribute: 'attribute-verification',
};

/** The line the local stack prints, e.g. `Verification code for a@b.c: 123456`. */
export function describeCode({ email, code, purpose }: DeliveredCode): string {
  const what =
    purpose === 'password-reset'
      ? 'Password reset code'
      : purpose === 'attribute-verification'
        ? 'Email verification code'
        : 'Verification code';
  return `${what} for ${email}: ${code}`;
}

/** One line from the child, or undefined when it is not a code report. */
export function parseCodeLine(line: string): DeliveredCode | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { source, email, code } = value as Record<string, unknown>;
  const purpose = typeof source === 'string' ? PURPOSES[source] : undefined;
  if (purpose === undefined || typeof email !== 'string' || typeof code !== 'string') return undefined;
  return { email, code, purpose };
}

/** Calls `onCode` for each code line the stream carries (split across chunks or not). */
export function readCodes(stream: Readable, onCode: (delivery: DeliveredCode) => void): void {
  let pending = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    pending += chunk;
    let newline = pending.indexOf('\n');
    while (newline >= 0) {
      const delivery = parseCodeLine(pending.slice(0, newline));
      pending = pending.slice(newline + 1);
      if (delivery) onCode(delivery);
      newline = pending.indexOf('\n');
    }
  });
}
