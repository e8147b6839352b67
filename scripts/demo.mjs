// npm run demo: the gateway walkthrough, narrated. Keeps running so you can curl the gateway;
// Ctrl-C stops everything. STAGECRAFT_DEMO_GATEWAY_PORT picks the gateway port (default 9080).
import { runWalkthrough } from '../dist/src/demo/walkthrough.js';

const port = Number(process.env.STAGECRAFT_DEMO_GATEWAY_PORT ?? 9080);
const result = await runWalkthrough({ gatewayPort: port, say: (line) => console.log(line), databaseUrl: process.env.DATABASE_URL });
console.log(`\nTry it:  curl http://127.0.0.1:${port}/pet/1\nGraphiQL: ${result.controlPlane}/graphql   (Ctrl-C to stop)`);
const stop = () => result.stop().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
if (process.argv.includes('--exit')) await stop();
