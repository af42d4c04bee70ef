// `node --import tsx bench/first-token/dynamodb-main.ts <dir>`: dynalite in its own process, so the stack's
// event loop and CPU are the app's, as on AWS where the table is not in the function's process. Prints
// {"endpoint":…} once it listens; the stack creates the tables (LOCAL_DYNAMODB_ENDPOINT).
import { startDynamoDb } from '../../local/emulators/dynamodb';

const dynamo = await startDynamoDb({ path: process.argv[2] });
process.stdout.write(`${JSON.stringify({ endpoint: dynamo.endpoint })}\n`);
const stop = () => {
  dynamo.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
