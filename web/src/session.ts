/** The login view and the session's life: boot, sign-in, sign-out (by the user or by an expired token). */
import type { PublicConfig } from '../../contract/public-config';
import { createAccountViews } from './account-views';
import { accountMessage } from './accounts';
import { Api } from './api';
import { AuthError, loadConfig, logIn, restoreSession, type Session, saveSession } from './auth';
import { byId } from './dom';
import type { AppState } from './state';

export interface SessionCallbacks {
  /** Signed in (or restored): the app view is showing and `state.api` is set. */
  readonly onStart: (session: Session) => void;
  /** Signed out, before the login view shows: drop what belongs to the previous user. */
  readonly onEnd: () => void;
  /** The user pressed Log out (after onEnd). */
  readonly onLogout: () => void;
}

export interface SessionControl {
  readonly boot: () => Promise<void>;
}

export function createSession(state: AppState, callbacks: SessionCallbacks): SessionControl {
  const loginView = byId('login-view', HTMLElement);
  const loginForm = byId('login-form', HTMLFormElement);
  const emailInput = byId('email', HTMLInputElement);
  const passwordInput = byId('password', HTMLInputElement);
  const loginButton = byId('login-button', HTMLButtonElement);
  const loginError = byId('login-error', HTMLElement);
  const loginNotice = byId('login-notice', HTMLElement);
  const appView = byId('app-view', HTMLElement);
  const accountEmail = byId('account-email', HTMLElement);
  const tierBadge = byId('tier-badge', HTMLElement);

  let config: PublicConfig | undefined;

  const accounts = createAccountViews({
    container: loginView,
    loginForm,
    config: () => config,
    onSignedIn(session) {
      saveSession(session);
      start(session);
    },
    onBackToLogin(email, notice) {
      if (email) emailInput.value = email;
      showLogin('', notice);
    },
  });

  function showLogin(message = '', notice = ''): void {
    accounts.close();
    appView.hidden = true;
    loginView.hidden = false;
    loginError.textContent = message;
    loginNotice.textContent = notice;
    loginButton.disabled = false;
    loginButton.textContent = 'Log in';
    emailInput.focus();
  }

  function start(session: Session): void {
    if (!config) return;
    state.api = new Api(config, session, (reason) => end(reason));
    loginView.hidden = true;
    appView.hidden = false;
    accountEmail.textContent = session.email;
    tierBadge.textContent = session.tier === 'premium' ? 'Premium' : 'Free';
    tierBadge.dataset.tier = session.tier;
    callbacks.onStart(session);
  }

  function end(reason: string): void {
    state.api?.dispose();
    state.api = undefined;
    callbacks.onEnd();
    saveSession(undefined);
    showLogin(reason);
  }

  loginForm.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!config) return;
    loginButton.disabled = true;
    loginButton.textContent = 'Logging in…';
    loginError.textContent = '';
    loginNotice.textContent = '';
    // Emails are case-insensitive in the pool; sign-up stores them lower-case (cognito-local compares exactly).
    logIn(config, emailInput.value.trim().toLowerCase(), passwordInput.value)
      .then((session) => {
        passwordInput.value = '';
        saveSession(session);
        start(session);
      })
      .catch((error: unknown) => {
        if (!(error instanceof AuthError)) {
          showLogin(accountMessage('NetworkError', 'logIn'));
        } else if (error.type === 'UserNotConfirmedException') {
          // The password stays in memory so that confirming logs straight in.
          const password = passwordInput.value;
          passwordInput.value = '';
          showLogin();
          accounts.showConfirm(
            emailInput.value.trim().toLowerCase(),
            password,
            accountMessage(error.type, 'logIn'),
          );
        } else {
          showLogin(error.type ? accountMessage(error.type, 'logIn', error.message) : error.message);
        }
      });
  });

  byId('show-sign-up', HTMLButtonElement).addEventListener('click', () => {
    accounts.showSignUp(emailInput.value.trim());
  });
  byId('show-forgot', HTMLButtonElement).addEventListener('click', () => {
    accounts.showForgot(emailInput.value.trim());
  });

  byId('logout', HTMLButtonElement).addEventListener('click', () => {
    end('');
    callbacks.onLogout();
  });

  return {
    async boot() {
      try {
        config = await loadConfig();
      } catch {
        showLogin("Couldn't load the app settings. Reload the page to try again.");
        return;
      }
      const session = restoreSession();
      if (session) start(session);
      else showLogin();
    },
  };
}
