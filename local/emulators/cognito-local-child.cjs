/**
 * Runs cognito-local (argv[2]: its lib/bin/start.js) with three changes, all in this child's memory:
 * - it exits as soon as the parent's end of stdin closes, so it never outlives the local stack;
 * - every code it would email (sign-up, resend, forgot password, attribute verification) is written as one
 *   JSON line to fd 3 for the parent to print: its own console sender draws a coloured box in pino's log,
 *   which is not meant to be parsed. AdminCreateUser is left out: its "code" is a temporary password;
 * - it answers ResendConfirmationCode, which cognito-local 5.3 lacks, as Cognito does.
 * CommonJS because cognito-local is: the patches must reach the very module instances it requires.
 */
const { writeSync } = require('node:fs');
const { dirname, join } = require('node:path');

process.stdin.on('end', () => process.exit(0));
process.stdin.resume();

const startScript = process.argv[2];
if (!startScript) throw new Error('usage: cognito-local-child.cjs <cognito-local>/lib/bin/start.js');
const lib = dirname(dirname(startScript));
const { MessagesService } = require(join(lib, 'services', 'messages.js'));
const { Targets } = require(join(lib, 'targets', 'targets.js'));
const { InvalidParameterError, UserNotFoundError } = require(join(lib, 'errors.js'));

const CODE_FD = 3;
const CODE_SOURCES = new Set(['SignUp', 'ResendCode', 'ForgotPassword', 'VerifyUserAttribute']);
const emailOf = (user) => (user.Attributes ?? []).find((attribute) => attribute.Name === 'email')?.Value;

const deliver = MessagesService.prototype.deliver;
MessagesService.prototype.deliver = async function (ctx, source, clientId, poolId, user, code, ...rest) {
  await deliver.call(this, ctx, source, clientId, poolId, user, code, ...rest);
  if (!CODE_SOURCES.has(source)) return;
  const line = JSON.stringify({ source, email: emailOf(user) ?? user.Username, code });
  try {
    writeSync(CODE_FD, `${line}\n`);
  } catch {
    // Started without the code pipe (by hand): the console box in the log still shows the code.
  }
};

Targets.ResendConfirmationCode =
  ({ clock, cognito, messages, otp }) =>
  async (ctx, req) => {
    const userPool = await cognito.getUserPoolForClientId(ctx, req.ClientId);
    const user = await userPool.getUserByUsername(ctx, req.Username);
    if (!user) throw new UserNotFoundError();
    if (user.UserStatus !== 'UNCONFIRMED') throw new InvalidParameterError('User is already confirmed.');
    const details = { AttributeName: 'email', DeliveryMedium: 'EMAIL', Destination: emailOf(user) };
    const code = otp();
    await messages.deliver(
      ctx,
      'ResendCode',
      req.ClientId,
      userPool.options.Id,
      user,
      code,
      req.ClientMetadata,
      details,
    );
    await userPool.saveUser(ctx, { ...user, ConfirmationCode: code, UserLastModifiedDate: clock.get() });
    return { CodeDeliveryDetails: details };
  };

require(startScript);
