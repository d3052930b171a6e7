/**
 * Sample post-login events, shaped as Auth0 hands them to an Action (the fields the Action reads,
 * and a few it must ignore).
 */
'use strict';

const AUDIENCE = 'https://api.example.com/tenantgraph';

/** A staff member of the workforce tenant signing in for tenantgraph's API. */
function staffSignIn({ appMetadata = {}, userMetadata = {}, secrets = {}, audience = AUDIENCE } = {}) {
  return {
    secrets: { TENANTGRAPH_AUDIENCE: AUDIENCE, ...secrets },
    client: { client_id: 'portal-client-id', name: 'tenantgraph portal', metadata: {} },
    connection: { id: 'con_1', name: 'google-apps', strategy: 'google-apps' },
    resource_server: audience === null ? undefined : { identifier: audience },
    tenant: { id: 'example-corp' },
    user: {
      user_id: 'google-apps|ada@example.com',
      email: 'ada@example.com',
      email_verified: true,
      app_metadata: appMetadata,
      user_metadata: userMetadata,
    },
    authorization: { roles: ['tenantgraph support'] },
    stats: { logins_count: 12 },
    request: { ip: '203.0.113.7', method: 'POST', query: {}, body: {} },
  };
}

/** A customer's administrator signing in through the workforce tenant's organization. */
function organizationSignIn({ metadata, appMetadata = {}, secrets = {} } = {}) {
  const event = staffSignIn({ appMetadata, secrets });
  event.user.user_id = 'auth0|64f1c2d3e4';
  event.user.email = 'grace@globex.example';
  event.connection = { id: 'con_2', name: 'Username-Password-Authentication', strategy: 'auth0' };
  event.organization = {
    id: 'org_Wk7PnQ2rT8vX1yZ3',
    name: 'globex',
    display_name: 'Globex',
    metadata: metadata === undefined
      ? { tenantgraph_tenant: 'acme-us', tenantgraph_organization: 'org_Cu5tomer0rg1d42' }
      : metadata,
  };
  return event;
}

module.exports = { AUDIENCE, staffSignIn, organizationSignIn };
