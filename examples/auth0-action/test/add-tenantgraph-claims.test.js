/**
 * The Action against sample sign-ins: which claims it puts in tenantgraph's access tokens, and
 * which sign-ins it refuses. Run with `npm test` (Node's own test runner; no dependencies).
 */
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');

const { run } = require('./harness.js');
const { AUDIENCE, staffSignIn, organizationSignIn } = require('./events.js');

const TENANTS = 'https://tenantgraph.dev/tenants';
const ORGANIZATION = 'https://tenantgraph.dev/organization';

test('staff get the tenants listed in their app_metadata, and no organization', async () => {
  const done = await run(staffSignIn({ appMetadata: { tenantgraph_tenants: ['acme-eu', 'globex', 'acme-eu'] } }));
  assert.deepEqual(done, {
    accessToken: { [TENANTS]: ['acme-eu', 'globex'] },
    idToken: {},
    denied: null,
  });
});

test('"*" reaches every tenant, alone or in a list', async () => {
  for (const tenants of ['*', ['acme-eu', '*']]) {
    const done = await run(staffSignIn({ appMetadata: { tenantgraph_tenants: tenants } }));
    assert.deepEqual(done.accessToken, { [TENANTS]: '*' });
    assert.equal(done.denied, null);
  }
});

test('a user without tenantgraph_tenants gets no tenants claim, and tenantgraph no tenant', async () => {
  const done = await run(staffSignIn());
  assert.deepEqual(done, { accessToken: {}, idToken: {}, denied: null });
});

test('user_metadata, which users write themselves, is never read', async () => {
  const done = await run(staffSignIn({ userMetadata: { tenantgraph_tenants: '*' } }));
  assert.deepEqual(done.accessToken, {});
});

test('malformed tenants in app_metadata refuse the sign-in rather than guess', async () => {
  for (const tenants of ['acme-eu', 'all', ['ACME EU'], [42], { 'acme-eu': true }, ['../x']]) {
    const done = await run(staffSignIn({ appMetadata: { tenantgraph_tenants: tenants } }));
    assert.deepEqual(done.accessToken, {}, JSON.stringify(tenants));
    assert.match(done.denied, /tenantgraph_tenants/, JSON.stringify(tenants));
  }
});

test('an organization sign-in gets its mapped tenant and customer organization, whatever the user app_metadata says', async () => {
  const done = await run(organizationSignIn({ appMetadata: { tenantgraph_tenants: '*' } }));
  assert.deepEqual(done, {
    accessToken: { [TENANTS]: ['acme-us'], [ORGANIZATION]: 'org_Cu5tomer0rg1d42' },
    idToken: {},
    denied: null,
  });
});

test('an organization without a complete mapping is refused, with no claims', async () => {
  for (const metadata of [
    {},
    { tenantgraph_tenant: 'acme-us' },
    { tenantgraph_organization: 'org_Cu5tomer0rg1d42' },
    { tenantgraph_tenant: 'acme-us', tenantgraph_organization: 'not-an-org' },
    { tenantgraph_tenant: '*', tenantgraph_organization: 'org_Cu5tomer0rg1d42' },
  ]) {
    const done = await run(organizationSignIn({ metadata }));
    assert.deepEqual(done.accessToken, {}, JSON.stringify(metadata));
    assert.match(done.denied, /organization globex is not mapped/, JSON.stringify(metadata));
  }
});

test('tokens for other APIs, or for no API, are left alone', async () => {
  for (const audience of ['https://example-corp.eu.auth0.com/api/v2/', 'https://other.example.com', null]) {
    for (const event of [
      staffSignIn({ appMetadata: { tenantgraph_tenants: '*' }, audience }),
      { ...organizationSignIn(), resource_server: audience === null ? undefined : { identifier: audience } },
    ]) {
      assert.deepEqual(await run(event), { accessToken: {}, idToken: {}, denied: null });
    }
  }
});

test('without the TENANTGRAPH_AUDIENCE secret nothing is added and no sign-in is refused', async () => {
  const event = staffSignIn({ appMetadata: { tenantgraph_tenants: '*' } });
  event.secrets = {};
  const logged = [];
  const original = console.error;
  console.error = (line) => logged.push(line);
  try {
    assert.deepEqual(await run(event), { accessToken: {}, idToken: {}, denied: null });
  } finally {
    console.error = original;
  }
  assert.match(logged.join('\n'), /TENANTGRAPH_AUDIENCE is not set/);
});

test('claim names follow the secrets when the gateway renamed them', async () => {
  const secrets = { TENANTS_CLAIM: 'https://ops.example.com/tenants', ORGANIZATION_CLAIM: 'https://ops.example.com/org' };
  assert.deepEqual((await run(staffSignIn({ appMetadata: { tenantgraph_tenants: ['globex'] }, secrets }))).accessToken, {
    'https://ops.example.com/tenants': ['globex'],
  });
  assert.deepEqual((await run(organizationSignIn({ secrets }))).accessToken, {
    'https://ops.example.com/tenants': ['acme-us'],
    'https://ops.example.com/org': 'org_Cu5tomer0rg1d42',
  });
});

test('the audience compared is the configured one', () => {
  assert.equal(staffSignIn().resource_server.identifier, AUDIENCE);
});
