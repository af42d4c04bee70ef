/**
 * `npm run test:unit` promises a loop that touches no network and no emulator: any socket a test opens or
 * listens on fails it, so a test that needs one belongs to `npm test` instead.
 */
import net from 'node:net';

const refuse = (what: string) => () => {
  throw new Error(`test:unit touches no network: ${what} is not allowed here (move the test to npm test)`);
};
net.Socket.prototype.connect = refuse('a socket connect') as typeof net.Socket.prototype.connect;
net.Server.prototype.listen = refuse('a server listen') as typeof net.Server.prototype.listen;
