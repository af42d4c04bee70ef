/**
 * The account screens beside the log-in form: create an account, confirm it with the emailed code (or
 * send a new one), and reset a forgotten password. Each screen is built when shown and removed when left,
 * so only one form (one "Email" field) is in the page at a time. Passwords live in these closures only
 * until the automatic log-in that ends each flow.
 */
import { PASSWORD_RULE, passwordProblem } from '../../contract/password-policy';
import type { PublicConfig } from '../../contract/public-config';
import {
  AccountError,
  accountMessage,
  confirmSignUp,
  forgotPassword,
  resendCode,
  resetPassword,
  signUp,
} from './accounts';
import { AuthError, logIn, type Session } from './auth';
import { h } from './dom';

export interface AccountViewsOptions {
  /** The element the screens go in (the log-in view). */
  readonly container: HTMLElement;
  /** Hidden while an account screen shows. */
  readonly loginForm: HTMLFormElement;
  readonly config: () => PublicConfig | undefined;
  readonly onSignedIn: (session: Session) => void;
  /** Back to the log-in form, with the email filled in and a notice (or none). */
  readonly onBackToLogin: (email: string, notice: string) => void;
}

export interface AccountViews {
  showSignUp(email?: string): void;
  /** After a log-in refused as UserNotConfirmedException: confirm, then log in with `password`. */
  showConfirm(email: string, password?: string, notice?: string): void;
  showForgot(email?: string): void;
  /** Removes any account screen (the log-in form shows again through the caller). */
  close(): void;
}

let fieldIds = 0;

function field(label: string, attributes: Record<string, string>, hint?: string) {
  const id = `account-field-${++fieldIds}`;
  const hintId = hint === undefined ? undefined : `${id}-hint`;
  const input = h('input', { id, required: true, ...attributes, 'aria-describedby': hintId });
  const nodes = [
    h('label', { for: id }, label),
    ...(hint === undefined ? [] : [h('p', { id: hintId, class: 'muted small field-hint' }, hint)]),
    input,
  ];
  return { input, nodes };
}

const normalEmail = (value: string) => value.trim().toLowerCase();

export function createAccountViews(options: AccountViewsOptions): AccountViews {
  let current: HTMLFormElement | undefined;

  function close(): void {
    current?.remove();
    current = undefined;
    options.loginForm.hidden = false;
  }

  /** Builds a screen; `run` does its work, and its AccountError shows in the screen's alert. */
  function screen(
    title: string,
    intro: string,
    fields: readonly Node[],
    submitLabel: string,
    run: (ui: { error: HTMLElement; status: HTMLElement; config: PublicConfig }) => Promise<void>,
    extra: readonly Node[] = [],
    knownEmail = '',
  ): HTMLFormElement {
    current?.remove();
    options.loginForm.hidden = true;
    const error = h('p', { class: 'form-error', role: 'alert' });
    const status = h('p', { class: 'form-notice', role: 'status' });
    const submit = h('button', { type: 'submit', class: 'primary wide' }, submitLabel);
    const back = h('button', { type: 'button', class: 'link' }, 'Back to log in');
    const form = h(
      'form',
      { class: 'login-card', novalidate: true, 'aria-labelledby': 'account-title' },
      h('div', { class: 'logo', 'aria-hidden': 'true' }),
      h('h1', { id: 'account-title' }, title),
      h('p', { class: 'muted' }, intro),
      ...fields,
      error,
      status,
      submit,
      ...extra,
      back,
    );
    back.addEventListener('click', () => {
      const email = form.querySelector<HTMLInputElement>('input[type="email"]')?.value ?? knownEmail;
      close();
      options.onBackToLogin(normalEmail(email), '');
    });
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const config = options.config();
      if (!config || submit.disabled) return;
      const label = submit.textContent ?? '';
      submit.disabled = true;
      submit.textContent = 'Please wait…';
      error.textContent = '';
      status.textContent = '';
      run({ error, status, config })
        .catch((failure: unknown) => {
          error.textContent =
            failure instanceof AccountError || failure instanceof AuthError
              ? failure.message
              : accountMessage('', 'signUp');
        })
        .finally(() => {
          submit.disabled = false;
          submit.textContent = label;
        });
    });
    options.container.append(form);
    current = form;
    form.querySelector('input')?.focus();
    return form;
  }

  /** Local Cognito emails nothing: say where the code is. */
  const localHint = (config: PublicConfig | undefined) =>
    config?.cognitoEndpoint.startsWith('http://')
      ? ' Running locally, the code is printed in the terminal running npm start.'
      : '';

  function showSignUp(email = ''): void {
    const emailField = field('Email', { type: 'email', autocomplete: 'email', value: email });
    const password = field('Password', { type: 'password', autocomplete: 'new-password' }, PASSWORD_RULE);
    screen(
      'Create your account',
      'New accounts start on the free plan.',
      [...emailField.nodes, ...password.nodes],
      'Create account',
      async ({ config }) => {
        const address = normalEmail(emailField.input.value);
        if (!emailField.input.checkValidity() || address === '') {
          throw new AccountError('InvalidParameterException', 'Enter your email address.');
        }
        const problem = passwordProblem(password.input.value);
        if (problem) throw new AccountError('InvalidPasswordException', `${problem} ${PASSWORD_RULE}`);
        await signUp(config, address, password.input.value);
        showConfirm(address, password.input.value);
      },
    );
  }

  function showConfirm(email: string, password?: string, notice = ''): void {
    const code = field('Verification code', {
      type: 'text',
      autocomplete: 'one-time-code',
      inputmode: 'numeric',
      maxlength: '10',
    });
    const resend = h('button', { type: 'button', class: 'ghost wide' }, 'Send a new code');
    const form = screen(
      'Check your email',
      `Enter the code we sent to ${email}.${localHint(options.config())}`,
      code.nodes,
      'Confirm',
      async ({ config }) => {
        const value = code.input.value.trim();
        if (value === '') throw new AccountError('CodeMismatchException', 'Enter the code from the email.');
        await confirmSignUp(config, email, value);
        if (password === undefined) {
          close();
          options.onBackToLogin(email, 'Your email is confirmed. Log in to continue.');
          return;
        }
        const session = await logIn(config, email, password);
        close();
        options.onSignedIn(session);
      },
      [resend],
      email,
    );
    const status = form.querySelector<HTMLElement>('[role="status"]');
    const error = form.querySelector<HTMLElement>('[role="alert"]');
    if (status) status.textContent = notice;
    resend.addEventListener('click', () => {
      const config = options.config();
      if (!config || resend.disabled) return;
      resend.disabled = true;
      if (error) error.textContent = '';
      resendCode(config, email)
        .then(() => {
          if (status) status.textContent = `We sent a new code to ${email}.`;
          code.input.focus();
        })
        .catch((failure: unknown) => {
          if (error) error.textContent = failure instanceof AccountError ? failure.message : String(failure);
        })
        .finally(() => {
          resend.disabled = false;
        });
    });
  }

  function showForgot(email = ''): void {
    const emailField = field('Email', { type: 'email', autocomplete: 'email', value: email });
    screen(
      'Reset your password',
      "Enter your account's email and we'll send you a code.",
      emailField.nodes,
      'Send code',
      async ({ config }) => {
        const address = normalEmail(emailField.input.value);
        if (!emailField.input.checkValidity() || address === '') {
          throw new AccountError('InvalidParameterException', 'Enter your email address.');
        }
        await forgotPassword(config, address);
        showReset(address);
      },
    );
  }

  function showReset(email: string): void {
    const code = field('Reset code', { type: 'text', autocomplete: 'one-time-code', inputmode: 'numeric' });
    const password = field('New password', { type: 'password', autocomplete: 'new-password' }, PASSWORD_RULE);
    screen(
      'Set a new password',
      `If an account exists for ${email}, we sent it a code.${localHint(options.config())}`,
      [...code.nodes, ...password.nodes],
      'Set password and log in',
      async ({ config }) => {
        const value = code.input.value.trim();
        if (value === '') throw new AccountError('CodeMismatchException', 'Enter the code from the email.');
        const problem = passwordProblem(password.input.value);
        if (problem) throw new AccountError('InvalidPasswordException', `${problem} ${PASSWORD_RULE}`);
        await resetPassword(config, email, value, password.input.value);
        const session = await logIn(config, email, password.input.value);
        close();
        options.onSignedIn(session);
      },
      [],
      email,
    );
  }

  return { showSignUp, showConfirm, showForgot, close };
}
