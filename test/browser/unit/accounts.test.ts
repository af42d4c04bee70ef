import { describe, expect, it } from 'vitest';
import { PASSWORD_RULE, passwordProblem } from '../../../contract/password-policy';
import { accountMessage } from '../../../web/src/accounts';

describe('passwordProblem', () => {
  it("accepts what the pool's policy accepts", () => {
    expect(passwordProblem('LocalDemo-2026!')).toBeUndefined();
    expect(passwordProblem('a B 3 c d e f g')).toBeUndefined();
  });

  it('names everything a password lacks, in one sentence', () => {
    expect(passwordProblem('short')).toBe(
      'The password needs at least 12 characters, an upper-case letter, a digit and a symbol.',
    );
    expect(passwordProblem('longenoughPassword1')).toBe('The password needs a symbol.');
    // A space counts as a symbol only inside the password, as Cognito counts it.
    expect(passwordProblem(' longenoughPassword1 ')).toBe('The password needs a symbol.');
  });
});

describe('accountMessage', () => {
  it('turns each Cognito refusal into something the user can act on', () => {
    expect(accountMessage('UsernameExistsException', 'signUp')).toContain('already exists');
    expect(accountMessage('InvalidPasswordException', 'signUp')).toContain(PASSWORD_RULE);
    expect(accountMessage('CodeMismatchException', 'confirm')).toContain("isn't right");
    expect(accountMessage('ExpiredCodeException', 'confirm')).toContain('Send a new one');
    expect(accountMessage('ExpiredCodeException', 'reset')).toContain('request a new one');
    expect(accountMessage('LimitExceededException', 'resend')).toContain('Wait a few minutes');
    expect(accountMessage('UserNotConfirmedException', 'logIn')).toContain("isn't confirmed");
    expect(accountMessage('NotAuthorizedException', 'logIn', 'Incorrect username or password.')).toBe(
      'Incorrect email or password.',
    );
    expect(accountMessage('InvalidParameterException', 'resend', 'User is already confirmed.')).toContain(
      'already confirmed',
    );
    expect(accountMessage('SomethingNewException', 'signUp')).toContain('Try again');
    expect(accountMessage('SomethingNewException', 'signUp', 'Cognito says why.')).toBe('Cognito says why.');
  });
});
