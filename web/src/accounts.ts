/**
 * Self-service accounts through Cognito's own API, as the log-in does (auth.ts): sign up, confirm the
 * emailed code, send a new one, and reset a forgotten password. Every refusal becomes a sentence the
 * user can act on; `AccountError.type` keeps Cognito's exception name for the views.
 */

import { PASSWORD_RULE } from '../../contract/password-policy';
import type { PublicConfig } from '../../contract/public-config';
import { isRecord } from './auth';

export type AccountStep = 'signUp' | 'confirm' | 'resend' | 'forgot' | 'reset' | 'logIn';

export class AccountError extends Error {
  override readonly name = 'AccountError';
  constructor(
    /** Cognito's exception name (UsernameExistsException…), or 'NetworkError'. */
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

const TOO_MANY = 'Too many attempts. Wait a few minutes, then try again.';

/** The sentence shown for a Cognito refusal at a given step. */
export function accountMessage(type: string, step: AccountStep, cognitoMessage = ''): string {
  switch (type) {
    case 'UsernameExistsException':
      return 'An account with this email already exists. Log in, or reset its password.';
    case 'InvalidPasswordException':
      return `Choose a stronger password. ${PASSWORD_RULE}`;
    case 'CodeMismatchException':
      return "That code isn't right. Check the latest email we sent and try again.";
    case 'ExpiredCodeException':
      return step === 'reset'
        ? 'That code has expired. Go back and request a new one.'
        : 'That code has expired. Send a new one and enter it.';
    case 'LimitExceededException':
    case 'TooManyRequestsException':
    case 'TooManyFailedAttemptsException':
      return TOO_MANY;
    case 'CodeDeliveryFailureException':
      return "We couldn't send the email. Check the address, or try again later.";
    case 'UserNotConfirmedException':
      return "This account isn't confirmed yet. Enter the code we emailed you, or send a new one.";
    case 'NotAuthorizedException':
      if (step === 'confirm') return 'This account is already confirmed. Log in.';
      if (/disabled/i.test(cognitoMessage)) return 'This account is disabled.';
      return 'Incorrect email or password.';
    case 'UserNotFoundException':
      // Only reached where the pool reveals existence (cognito-local): say no more than AWS would.
      return step === 'logIn' ? 'Incorrect email or password.' : "That code isn't right.";
    case 'InvalidParameterException':
      if (/already confirmed/i.test(cognitoMessage)) return 'This account is already confirmed. Log in.';
      if (/password/i.test(cognitoMessage)) return `Choose a stronger password. ${PASSWORD_RULE}`;
      return 'Check the email address and try again.';
    case 'PasswordResetRequiredException':
      return 'This account needs a new password. Choose "Forgot password?" to get a code.';
    case 'NetworkError':
      return "Couldn't reach the sign-in service. Check your connection and try again.";
    default:
      // A refusal this client does not know yet: Cognito's own words beat a vague one.
      return cognitoMessage || 'Something went wrong on our side. Try again in a moment.';
  }
}

/** One call of Cognito's JSON API, unsigned (the public client operations). */
export async function cognito(
  config: PublicConfig,
  operation: string,
  body: Record<string, unknown>,
  step: AccountStep,
): Promise<Record<string, unknown>> {
  let response: Response;
  try {
    response = await fetch(config.cognitoEndpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': `AWSCognitoIdentityProviderService.${operation}`,
      },
      body: JSON.stringify({ ClientId: config.userPoolClientId, ...body }),
    });
  } catch {
    throw new AccountError('NetworkError', accountMessage('NetworkError', step));
  }
  const parsed: unknown = await response.json().catch(() => undefined);
  const record = isRecord(parsed) ? parsed : {};
  if (!response.ok) {
    // __type is "UsernameExistsException" or, from some endpoints, "prefix#UsernameExistsException".
    const type = typeof record.__type === 'string' ? (record.__type.split('#').pop() ?? '') : '';
    const message = typeof record.message === 'string' ? record.message : '';
    throw new AccountError(type || `HTTP ${response.status}`, accountMessage(type, step, message));
  }
  return record;
}

export async function signUp(config: PublicConfig, email: string, password: string): Promise<void> {
  await cognito(
    config,
    'SignUp',
    { Username: email, Password: password, UserAttributes: [{ Name: 'email', Value: email }] },
    'signUp',
  );
}

export async function confirmSignUp(config: PublicConfig, email: string, code: string): Promise<void> {
  await cognito(config, 'ConfirmSignUp', { Username: email, ConfirmationCode: code }, 'confirm');
}

export async function resendCode(config: PublicConfig, email: string): Promise<void> {
  await cognito(config, 'ResendConfirmationCode', { Username: email }, 'resend');
}

/** Sends a reset code. An unknown email looks the same as a known one, as on AWS. */
export async function forgotPassword(config: PublicConfig, email: string): Promise<void> {
  try {
    await cognito(config, 'ForgotPassword', { Username: email }, 'forgot');
  } catch (error) {
    if (error instanceof AccountError && error.type === 'UserNotFoundException') return;
    throw error;
  }
}

export async function resetPassword(
  config: PublicConfig,
  email: string,
  code: string,
  password: string,
): Promise<void> {
  await cognito(
    config,
    'ConfirmForgotPassword',
    { Username: email, ConfirmationCode: code, Password: password },
    'reset',
  );
}
