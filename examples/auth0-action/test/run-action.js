/**
 * Runs the Action on one post-login event read as JSON from standard input and prints what it
 * did as JSON: `{"accessToken": {claims}, "idToken": {claims}, "denied": reason or null}`.
 * The gateway's tests (tests/api/auth0_action.rs) use it to check that the claims the Action
 * makes are the claims the gateway reads.
 */
'use strict';

const { run } = require('./harness.js');

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  input += chunk;
});
process.stdin.on('end', async () => {
  try {
    const record = await run(JSON.parse(input));
    process.stdout.write(`${JSON.stringify(record)}\n`);
  } catch (error) {
    process.stderr.write(`run-action: ${error && error.stack ? error.stack : error}\n`);
    process.exitCode = 1;
  }
});
