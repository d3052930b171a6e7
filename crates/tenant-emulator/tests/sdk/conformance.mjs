// Drives an emulated tenant through Auth0's official Node.js SDK (node-auth0 v4) and checks what
// the SDK hands back. Started by the Rust test `sdk::node_auth0_conformance` with
// EMULATOR_URL, AUTH0_DOMAIN, AUTH0_CLIENT_ID, AUTH0_CLIENT_SECRET and CALLBACK_URL (an allowed
// callback URL of that client) in the environment.
// Runs every check, prints one line for each, and exits non-zero if any failed.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { AuthenticationClient, ManagementApiError, ManagementClient, UserInfoClient } from 'auth0';

const base = required('EMULATOR_URL');
const domain = required('AUTH0_DOMAIN');
const clientId = required('AUTH0_CLIENT_ID');
const clientSecret = required('AUTH0_CLIENT_SECRET');
const callback = required('CALLBACK_URL');
const DATABASE = 'Username-Password-Authentication';

// The SDK only speaks to https://{domain}; this sends its requests to the emulator instead
// (`fetch` is the SDK's documented hook for a custom fetch implementation).
const canonical = `https://${domain}`;
const throughEmulator = (url, init) => fetch(String(url).replace(canonical, base), init);

const management = new ManagementClient({ domain, clientId, clientSecret, fetch: throughEmulator });
const authentication = new AuthenticationClient({
  domain,
  clientId,
  clientSecret,
  fetch: throughEmulator,
  retry: { enabled: false },
});
const userInfo = new UserInfoClient({ domain, fetch: throughEmulator });

// The whole run must end in time even if a request hangs.
setTimeout(() => {
  console.error('not ok - the run took longer than 120 s');
  process.exit(2);
}, 120_000).unref();

function required(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`missing environment variable ${name}`);
    process.exit(2);
  }
  return value;
}

/** The emulator's control API (no token), for picking targets and injecting faults. */
async function control(method, path, body) {
  const response = await fetch(`${base}/__emulator${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  assert.ok(response.ok, `control ${method} ${path}: ${response.status}`);
  return response.status === 204 ? undefined : response.json();
}

/** Requests of `route` the emulator has served, from its own counts. */
async function served(route) {
  const stats = await control('GET', '/stats');
  return stats.routes[route] ?? 0;
}

async function rejection(promise) {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail('expected the SDK to throw');
}

const checks = [];
const check = (name, run) => checks.push({ name, run });

const { users } = await control('GET', '/users?limit=200');
const organizations = await control('GET', '/organizations');
const someone = users.find((u) => u.email && u.organizations.length > 0);
assert.ok(someone, 'a seeded user with an email and an organization');

check('users.getAll searches with q and include_totals', async () => {
  const { data, status } = await management.users.getAll({
    q: `email:"${someone.email}"`,
    search_engine: 'v3',
    include_totals: true,
    per_page: 5,
  });
  assert.equal(status, 200);
  assert.equal(data.total, 1);
  assert.equal(data.start, 0);
  assert.equal(data.limit, 5);
  assert.equal(data.length, 1);
  assert.equal(data.users[0].user_id, someone.user_id);
});

check('users.getAll pages a bare array and selects fields', async () => {
  const { data } = await management.users.getAll({
    per_page: 7,
    page: 1,
    fields: 'user_id,email',
    include_fields: true,
  });
  assert.ok(Array.isArray(data));
  assert.equal(data.length, 7);
  for (const user of data) {
    // Every user has an id; Google-only users may have no email.
    assert.equal(typeof user.user_id, 'string');
    assert.ok(Object.keys(user).every((k) => k === 'user_id' || k === 'email'), Object.keys(user));
  }
});

check('users.get returns the profile', async () => {
  const { data } = await management.users.get({ id: someone.user_id });
  assert.equal(data.user_id, someone.user_id);
  assert.equal(data.email, someone.email);
  assert.ok(Array.isArray(data.identities));
});

check('usersByEmail.getByEmail finds the user', async () => {
  const { data } = await management.usersByEmail.getByEmail({ email: someone.email });
  assert.ok(data.some((u) => u.user_id === someone.user_id));
});

check('users.getLogs pages with totals; each event has _id equal to log_id', async () => {
  let data;
  for (const user of users) {
    ({ data } = await management.users.getLogs({
      id: user.user_id,
      per_page: 5,
      include_totals: true,
      sort: 'date:-1',
    }));
    if (data.logs.length > 0) break;
  }
  assert.ok(data.logs.length > 0, 'some user has log events');
  assert.equal(typeof data.total, 'number');
  for (const event of data.logs) {
    assert.equal(event._id, event.log_id);
    assert.equal(typeof event.date, 'string');
  }
});

check('users.getUserOrganizations and users.getRoles', async () => {
  const { data: orgs } = await management.users.getUserOrganizations({
    id: someone.user_id,
    include_totals: true,
  });
  assert.deepEqual(orgs.organizations.map((o) => o.id).sort(), [...someone.organizations].sort());
  const { data: roles } = await management.users.getRoles({ id: someone.user_id });
  assert.ok(Array.isArray(roles));
  for (const role of roles) {
    assert.equal(typeof role.id, 'string');
    assert.equal(typeof role.name, 'string');
  }
});

check('organizations.getAll sorts and pages by checkpoint', async () => {
  for (const [sort, direction] of [['name:1', 1], ['display_name:-1', -1]]) {
    const field = sort.split(':')[0];
    const { data } = await management.organizations.getAll({ sort });
    const expected = organizations
      .map((o) => o[field])
      .sort((a, b) => (a < b ? -direction : a > b ? direction : 0));
    assert.deepEqual(data.map((o) => o[field]), expected, sort);
  }
  const { data: totals } = await management.organizations.getAll({ include_totals: true });
  assert.equal(totals.total, organizations.length);
  const { data: first } = await management.organizations.getAll({ take: 4 });
  assert.equal(first.organizations.length, 4);
  const { data: rest } = await management.organizations.getAll({ take: 4, from: first.next });
  assert.equal(first.organizations.length + rest.organizations.length, organizations.length);
});

check('organizations.getMembers with include_fields, and fields=roles', async () => {
  // The Python SDK sends include_fields on every call, with or without fields.
  const org = organizations.find((o) => Object.keys(o.member_roles ?? {}).length > 0);
  const { data: plain } = await management.organizations.getMembers({
    id: (org ?? organizations[0]).id,
    include_fields: true,
  });
  assert.ok(plain.every((m) => !('roles' in m) && typeof m.user_id === 'string'));
  assert.ok(org, 'an organization whose members hold roles');
  const { data } = await management.organizations.getMembers({
    id: org.id,
    fields: 'user_id,email,roles',
    include_fields: true,
    per_page: 100,
  });
  assert.equal(data.length, Math.min(org.members.length, 100));
  for (const member of data) {
    const expected = org.member_roles[member.user_id] ?? [];
    assert.deepEqual(member.roles.map((r) => r.id), expected);
    for (const role of member.roles) {
      assert.deepEqual(Object.keys(role).sort(), ['id', 'name']);
    }
  }
});

check('userBlocks.get, getAll and delete', async () => {
  const { data } = await management.userBlocks.get({ id: someone.user_id });
  assert.ok(Array.isArray(data.blocked_for));
  const { data: byIdentifier } = await management.userBlocks.getAll({ identifier: someone.email });
  assert.ok(Array.isArray(byIdentifier.blocked_for));
  const { status } = await management.userBlocks.delete({ id: someone.user_id });
  assert.equal(status, 204);
});

check('tickets.changePassword and tickets.verifyEmail', async () => {
  const database = users.find((u) => u.user_id.startsWith('auth0|'));
  const { data, status } = await management.tickets.changePassword({ user_id: database.user_id });
  assert.equal(status, 201);
  assert.match(data.ticket, /^https:\/\/.+\/lo\/reset\?ticket=/);
  const { data: verify } = await management.tickets.verifyEmail({ user_id: database.user_id });
  assert.match(verify.ticket, /ticket=/);
});

check('jobs.verifyEmail then jobs.get', async () => {
  const { data: job, status } = await management.jobs.verifyEmail({ user_id: someone.user_id });
  assert.equal(status, 201);
  assert.equal(job.type, 'verification_email');
  const { data: again } = await management.jobs.get({ id: job.id });
  assert.equal(again.id, job.id);
  assert.equal(again.status, 'completed');
});

check('users.create, update and delete; a deleted user is a 404 ManagementApiError', async () => {
  const { data: created, status } = await management.users.create({
    connection: DATABASE,
    email: 'sdk-conformance@example.com',
    password: 'Sdk-Conformance-1',
    name: 'SDK Conformance',
  });
  assert.equal(status, 201);
  assert.match(created.user_id, /^auth0\|/);
  const { data: updated } = await management.users.update(
    { id: created.user_id },
    { name: 'Renamed', app_metadata: { plan: 'gold' } },
  );
  assert.equal(updated.name, 'Renamed');
  assert.deepEqual(updated.app_metadata, { plan: 'gold' });
  const { status: deleted } = await management.users.delete({ id: created.user_id });
  assert.equal(deleted, 204);
  const error = await rejection(management.users.get({ id: created.user_id }));
  assert.ok(error instanceof ManagementApiError, String(error));
  assert.equal(error.statusCode, 404);
  assert.equal(error.errorCode, 'inexistent_user');
});

check('users.get selects or drops fields', async () => {
  const { data: only } = await management.users.get({
    id: someone.user_id,
    fields: 'user_id,email',
    include_fields: true,
  });
  assert.deepEqual(Object.keys(only).sort(), ['email', 'user_id']);
  const { data: without } = await management.users.get({
    id: someone.user_id,
    fields: 'identities',
    include_fields: false,
  });
  assert.ok(!('identities' in without) && without.user_id === someone.user_id);
});

check('users.getAll sorts a search and refuses to page past 1000', async () => {
  const { data } = await management.users.getAll({
    q: 'email_verified:true',
    search_engine: 'v3',
    sort: 'created_at:1',
    per_page: 50,
  });
  const dates = data.map((u) => u.created_at);
  assert.deepEqual(dates, [...dates].sort());
  const error = await rejection(management.users.getAll({ page: 10, per_page: 100 }));
  assert.ok(error instanceof ManagementApiError, String(error));
  assert.equal(error.statusCode, 400);
  assert.equal(error.errorCode, 'invalid_paging');
});

check('users.getLogs without parameters is a bare array, newest first', async () => {
  const { data } = await management.users.getLogs({ id: someone.user_id });
  assert.ok(Array.isArray(data));
  const dates = data.map((e) => e.date);
  assert.deepEqual(dates, [...dates].sort().reverse());
});

check('organizations.getMembers pages by checkpoint', async () => {
  const org = organizations.reduce((a, b) => (a.members.length >= b.members.length ? a : b));
  const seen = [];
  let from;
  do {
    const { data } = await management.organizations.getMembers({ id: org.id, take: 7, from });
    seen.push(...data.members.map((m) => m.user_id));
    from = data.next;
  } while (from);
  assert.deepEqual(seen, org.members);
});

check('roles.getAll and roles.getUsers', async () => {
  const { data } = await management.roles.getAll({ include_totals: true });
  assert.equal(data.total, data.roles.length);
  const role = data.roles[0];
  const { data: first } = await management.roles.getUsers({ id: role.id, take: 2 });
  assert.ok(Array.isArray(first.users));
});

check('organizations.create, roles.create, users.assignRoles, roles.assignUsers, users.deleteRoles', async () => {
  const created = await management.organizations.create({ name: 'sdk-made', display_name: 'SDK' });
  assert.equal(created.status, 201);
  assert.match(created.data.id, /^org_/);
  assert.equal(created.data.name, 'sdk-made');
  const duplicate = await rejection(management.organizations.create({ name: 'sdk-made' }));
  assert.ok(duplicate instanceof ManagementApiError, String(duplicate));
  assert.equal(duplicate.statusCode, 409);
  const badName = await rejection(management.organizations.create({ name: 'SDK Made' }));
  assert.equal(badName.errorCode, 'invalid_body');

  const { data: role, status } = await management.roles.create({ name: 'sdk-role', description: 'by the SDK' });
  assert.equal(status, 200);
  assert.deepEqual(role, { id: role.id, name: 'sdk-role', description: 'by the SDK' });
  const [first, second] = users.filter((u) => u.email).slice(0, 2);
  const assigned = await management.users.assignRoles({ id: first.user_id }, { roles: [role.id] });
  assert.equal(assigned.status, 204);
  await management.roles.assignUsers({ id: role.id }, { users: [second.user_id] });
  const { data: holders } = await management.roles.getUsers({ id: role.id });
  assert.deepEqual(holders.map((u) => u.user_id).sort(), [first.user_id, second.user_id].sort());
  await management.users.deleteRoles({ id: first.user_id }, { roles: [role.id] });
  const { data: held } = await management.users.getRoles({ id: first.user_id });
  assert.ok(!held.some((r) => r.id === role.id));
  const unknown = await rejection(management.users.assignRoles({ id: first.user_id }, { roles: ['rol_unknown'] }));
  assert.equal(unknown.statusCode, 404);
  assert.equal(unknown.errorCode, 'inexistent_role');
});

check('stats.getActiveUsersCount and stats.getDaily', async () => {
  // node-auth0 v4 reads this answer as text: Auth0 sends a bare number.
  const { data: active } = await management.stats.getActiveUsersCount();
  assert.match(active, /^\d+$/);
  const { data: days } = await management.stats.getDaily({});
  assert.ok(days.length > 0);
  for (const day of days) {
    assert.equal(typeof day.logins, 'number');
    assert.match(day.date, /^\d{4}-\d\d-\d\dT00:00:00\.000Z$/);
  }
});

check('oauth.passwordGrant with a realm issues an end-user token', async () => {
  const email = 'sdk-login@example.com';
  const password = 'Sdk-Login-Passw0rd';
  const { data: user } = await management.users.create({ connection: DATABASE, email, password });
  try {
    const { data } = await authentication.oauth.passwordGrant({
      username: email,
      password,
      realm: DATABASE,
      audience: `${canonical}/api/v2/`,
    });
    const claims = JSON.parse(Buffer.from(data.access_token.split('.')[1], 'base64url'));
    assert.equal(claims.iss, `${canonical}/`);
    assert.equal(claims.sub, user.user_id);
    const error = await rejection(
      authentication.oauth.passwordGrant({ username: email, password: 'wrong', realm: DATABASE }),
    );
    assert.equal(error.statusCode, 403);
    assert.equal(error.error, 'invalid_grant');
  } finally {
    await management.users.delete({ id: user.user_id });
  }
});

/** Signs `email` in through `/authorize` and the login page as a browser would; the callback URL. */
async function signIn(email, password, params) {
  const authorize = new URL(`${base}/authorize`);
  authorize.search = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: callback,
    ...params,
  });
  const toLogin = await fetch(authorize, { redirect: 'manual' });
  assert.equal(toLogin.status, 302);
  const cookie = toLogin.headers.get('set-cookie').split(';')[0];
  const login = new URL(toLogin.headers.get('location'), base);
  const signedIn = await fetch(login, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ state: login.searchParams.get('state'), username: email, password }),
  });
  assert.equal(signedIn.status, 302, await signedIn.text());
  return new URL(signedIn.headers.get('location'));
}

check('oauth.authorizationCodeGrantWithPKCE exchanges a login-page code; userinfo reads it', async () => {
  const email = 'sdk-browser@example.com';
  const password = 'Sdk-Browser-Passw0rd';
  const { data: user } = await management.users.create({
    connection: DATABASE,
    email,
    password,
    name: 'SDK Browser',
  });
  try {
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    // No `openid`: the SDK would validate an ID token with keys fetched past its `fetch` option.
    const landed = await signIn(email, password, {
      scope: 'profile email',
      state: 'sdk-state',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
    assert.equal(`${landed.origin}${landed.pathname}`, callback);
    assert.equal(landed.searchParams.get('state'), 'sdk-state');
    const exchange = {
      code: landed.searchParams.get('code'),
      code_verifier: verifier,
      redirect_uri: callback,
    };
    const { data } = await authentication.oauth.authorizationCodeGrantWithPKCE(exchange);
    assert.equal(data.token_type, 'Bearer');
    assert.equal(data.id_token, undefined);
    const { data: info } = await userInfo.getUserInfo(data.access_token);
    assert.equal(info.sub, user.user_id);
    assert.equal(info.email, email);
    assert.equal(info.name, 'SDK Browser');
    const error = await rejection(authentication.oauth.authorizationCodeGrantWithPKCE(exchange));
    assert.equal(error.name, 'AuthApiError', String(error));
    assert.equal(error.statusCode, 403);
    assert.equal(error.error, 'invalid_grant');
  } finally {
    await management.users.delete({ id: user.user_id });
  }
});

check('a validation error reaches the caller with its errorCode', async () => {
  const error = await rejection(management.users.getAll({ per_page: 101 }));
  assert.ok(error instanceof ManagementApiError, String(error));
  assert.equal(error.statusCode, 400);
  assert.equal(error.errorCode, 'invalid_query_string');
});

check('the SDK retries a 429 and succeeds', async () => {
  const route = 'GET /api/v2/users/{id}';
  const before = await served(route);
  await control('PUT', '/faults', { rate_limit_storm: true, count: 2 });
  const { data } = await management.users.get({ id: someone.user_id });
  assert.equal(data.user_id, someone.user_id);
  assert.equal((await served(route)) - before, 3, 'two 429s, then the answer');
});

check('a 429 that outlasts the retries reaches the caller', async () => {
  await control('PUT', '/faults', { rate_limit_storm: true, count: 10 });
  try {
    const error = await rejection(management.users.get({ id: someone.user_id }));
    assert.ok(error instanceof ManagementApiError, String(error));
    assert.equal(error.statusCode, 429);
    assert.equal(error.errorCode, 'too_many_requests');
  } finally {
    await control('DELETE', '/faults');
  }
});

check('database.changePassword answers Auth0 text; a 429 is an AuthApiError', async () => {
  const { data } = await authentication.database.changePassword({
    email: someone.email,
    connection: DATABASE,
  });
  assert.equal(data, "We've just sent you an email to reset your password.");
  await control('PUT', '/faults', {
    auth_rate_limit_storm: true,
    paths: ['/dbconnections/change_password'],
  });
  try {
    const error = await rejection(
      authentication.database.changePassword({ email: someone.email, connection: DATABASE }),
    );
    assert.equal(error.name, 'AuthApiError', String(error));
    assert.equal(error.statusCode, 429);
    assert.equal(error.error, 'too_many_requests');
    // The Management API is not affected.
    const { status } = await management.users.get({ id: someone.user_id });
    assert.equal(status, 200);
  } finally {
    await control('DELETE', '/faults');
  }
});

check('revoked credentials: client credentials answer access_denied', async () => {
  await control('PUT', '/faults', { revoked_credentials: true, paths: ['/oauth/token'] });
  try {
    const error = await rejection(
      authentication.oauth.clientCredentialsGrant({ audience: `${canonical}/api/v2/` }),
    );
    assert.equal(error.name, 'AuthApiError', String(error));
    assert.equal(error.statusCode, 401);
    assert.equal(error.error, 'access_denied');
    assert.equal(error.error_description, 'Unauthorized');
  } finally {
    await control('DELETE', '/faults');
  }
});

let failed = 0;
for (const { name, run } of checks) {
  try {
    await run();
    console.log(`ok - ${name}`);
  } catch (error) {
    failed += 1;
    console.log(`not ok - ${name}`);
    console.log(error?.stack ?? String(error));
  }
}
console.log(`${checks.length - failed} of ${checks.length} checks passed`);
process.exit(failed === 0 ? 0 : 1);
