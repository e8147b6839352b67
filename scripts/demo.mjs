// npm run demo: the gateway walkthrough, narrated. Keeps running so you can curl the gateway;
// Ctrl-C (or SIGTERM) stops everything and removes the demo's temporary directory, also when it
// comes during set-up. STAGECRAFT_DEMO_GATEWAY_PORT picks the gateway port (default 9080);
// --exit stops right after the walkthrough.
import { runWalkthrough, WalkthroughAborted } from '../dist/src/demo/walkthrough.js';

const port = Number(process.env.STAGECRAFT_DEMO_GATEWAY_PORT ?? 9080);
const interrupted = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(signal, () => {
    console.log(`\n${signal}: stopping the demo and removing its files …`);
    interrupted.abort();
    // Stopping is bounded (PostgreSQL gets SIGQUIT, then SIGKILL); should it ever hang anyway,
    // say so and fail rather than leave the terminal waiting.
    setTimeout(() => {
      console.error('demo: stopping took over 60 s; giving up (its temporary directory may remain)');
      process.exit(1);
    }, 60_000).unref();
  });
}

let exitCode = 0;
try {
  const result = await runWalkthrough({ gatewayPort: port, say: (line) => console.log(line), databaseUrl: process.env.DATABASE_URL, signal: interrupted.signal });
  console.log(`
Try it:    curl http://127.0.0.1:${port}/pet/1
GraphiQL:  ${result.controlPlane}/graphql   (user admin, password ${result.adminPassword})
Data:      ${result.dataDir}   (removed when the demo stops)
Ctrl-C to stop.`);
  if (!process.argv.includes('--exit') && !interrupted.signal.aborted) {
    await new Promise((resolve) => interrupted.signal.addEventListener('abort', resolve, { once: true }));
  }
  await result.stop();
} catch (err) {
  // A step that fails because of the interruption (Ctrl-C reaches the whole process group, so
  // initdb or PostgreSQL may die first) is part of stopping, not a failure.
  if (!(err instanceof WalkthroughAborted) && !interrupted.signal.aborted) {
    console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
    exitCode = 1;
  }
}
console.log('demo stopped; its temporary directory is removed.');
process.exit(exitCode);
