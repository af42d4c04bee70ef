// `node --import tsx bench/first-token/proxy-main.ts <upstream>…`: the pass-through proxy in its own
// process (so its CPU can be read like the stack's); prints {"url":…} once it listens.
import { startPassThroughProxy } from './pass-through-proxy';

const proxy = await startPassThroughProxy(process.argv.slice(2));
process.stdout.write(`${JSON.stringify({ url: proxy.url })}\n`);
const stop = () => {
  proxy.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
