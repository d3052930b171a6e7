/**
 * Runs the Action as Auth0 would, against a sample sign-in, with an `api` that records what the
 * Action asked for instead of doing it: the claims it set on the access and ID tokens, and
 * whether (and why) it refused the sign-in. Used by the tests here and by the gateway's Rust
 * tests (through run-action.js), so that both judge the same Action.
 */
'use strict';

const action = require('../add-tenantgraph-claims.js');

/** An `api` object recording the calls the Action makes. */
function recordingApi() {
  const record = { accessToken: {}, idToken: {}, denied: null };
  const api = {
    accessToken: {
      setCustomClaim(name, value) {
        record.accessToken[name] = value;
      },
    },
    idToken: {
      setCustomClaim(name, value) {
        record.idToken[name] = value;
      },
    },
    access: {
      deny(reason) {
        record.denied = reason;
      },
    },
  };
  return { api, record };
}

/** Runs the Action on `event`; answers what it recorded. */
async function run(event) {
  const { api, record } = recordingApi();
  await action.onExecutePostLogin(event, api);
  return record;
}

module.exports = { run };
