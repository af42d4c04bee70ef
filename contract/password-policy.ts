/**
 * The user pool's password policy: CDK configures the pool with it (lib/stateful-stack.ts) and the web
 * client checks a new password against it before Cognito does, so the user reads the rule, not a refusal.
 * cognito-local does not enforce a policy at all: locally the client's check is the only one.
 */
export const PASSWORD_POLICY = {
  minLength: 12,
  requireLowercase: true,
  requireUppercase: true,
  requireDigits: true,
  requireSymbols: true,
} as const;

export const PASSWORD_RULE =
  'At least 12 characters, with an upper-case and a lower-case letter, a digit and a symbol.';

/** What the password lacks, as one sentence, or undefined when the policy accepts it. */
export function passwordProblem(password: string): string | undefined {
  const missing: string[] = [];
  if (PASSWORD_POLICY.requireLowercase && !/[a-z]/.test(password)) missing.push('a lower-case letter');
  if (PASSWORD_POLICY.requireUppercase && !/[A-Z]/.test(password)) missing.push('an upper-case letter');
  if (PASSWORD_POLICY.requireDigits && !/[0-9]/.test(password)) missing.push('a digit');
  // Cognito's symbols are the ASCII punctuation characters (and the space, when not at either end).
  if (PASSWORD_POLICY.requireSymbols && !/[\^$*.[\]{}()?"!@#%&/\\,><':;|_~`=+\- ]/.test(password.trim()))
    missing.push('a symbol');
  const short = password.length < PASSWORD_POLICY.minLength;
  if (!short && missing.length === 0) return undefined;
  const parts = [...(short ? [`at least ${PASSWORD_POLICY.minLength} characters`] : []), ...missing];
  const list = parts.length > 1 ? `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)}` : parts[0];
  return `The password needs ${list}.`;
}
