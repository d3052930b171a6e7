/**
 * tenantgraph's post-login Action, for the workforce tenant: the tenant that signs in
 * tenantgraph's operators (`auth.operator_issuer`).
 *
 * tenantgraph reads four claims from an operator's access token. Auth0 adds two by itself:
 * `permissions` (RBAC, with "Add Permissions in the Access Token" on) and `org_id` (for a
 * sign-in through an organization). This Action adds the other two, and only to access tokens
 * for tenantgraph's API:
 *
 * - The tenants claim (`https://tenantgraph.dev/tenants`, `auth.tenants_claim`): the tenant ids
 *   the operator may reach, "*" for all. For staff, from the user's
 *   `app_metadata.tenantgraph_tenants` ("*" or a list of ids), which only administrators can
 *   write; absent, the claim is not added and tenantgraph lets the operator reach no tenant.
 * - The organization claim (`https://tenantgraph.dev/organization`,
 *   `auth.organization_claim`): for a sign-in through an organization (a customer's
 *   administrator), the id of the customer's organization in the customer's tenant. Auth0's
 *   `org_id` names the workforce tenant's own organization, and an Action may not change it, so
 *   the workforce organization's metadata says where it points: `tenantgraph_tenant` (one
 *   tenant id) and `tenantgraph_organization` (the organization's id in that tenant). The
 *   tenants claim is then that tenant alone, whatever the user's app_metadata says. An
 *   organization without both is refused: its members would otherwise get a token that reaches
 *   nothing and not know why.
 *
 * Action secrets (Actions > this Action > Secrets):
 * - TENANTGRAPH_AUDIENCE (required): tenantgraph's API identifier, `auth.audience`.
 * - TENANTS_CLAIM, ORGANIZATION_CLAIM (optional): only if `auth.tenants_claim` or
 *   `auth.organization_claim` were changed from their defaults.
 *
 * No dependencies. docs/connecting-real-tenants.md tells the whole set-up; `npm test` (in this
 * directory) runs it against sample sign-ins.
 */
'use strict';

const DEFAULT_TENANTS_CLAIM = 'https://tenantgraph.dev/tenants';
const DEFAULT_ORGANIZATION_CLAIM = 'https://tenantgraph.dev/organization';

/** A tenantgraph tenant id, as its configuration accepts them. */
const TENANT_ID = /^[a-z0-9-]+$/;
/** An Auth0 organization id. */
const ORGANIZATION_ID = /^org_[A-Za-z0-9]+$/;

/**
 * The tenants of a staff member: "*" or a list of valid ids; `undefined` when the user has none;
 * `null` when the value is malformed (an administrator's mistake, refused rather than guessed).
 */
function staffTenants(appMetadata) {
  const value = appMetadata ? appMetadata.tenantgraph_tenants : undefined;
  if (value === undefined || value === null) {
    return undefined;
  }
  if (value === '*') {
    return '*';
  }
  const valid = (id) => id === '*' || (typeof id === 'string' && TENANT_ID.test(id));
  if (!Array.isArray(value) || !value.every(valid)) {
    return null;
  }
  return value.includes('*') ? '*' : [...new Set(value)];
}

/**
 * Runs after each successful sign-in (and refresh-token exchange) of the workforce tenant.
 *
 * @param {object} event - the sign-in: `secrets`, `resource_server`, `organization`, `user`
 * @param {object} api - what the Action may do: `accessToken.setCustomClaim`, `access.deny`
 */
exports.onExecutePostLogin = async (event, api) => {
  const secrets = event.secrets || {};
  const audience = secrets.TENANTGRAPH_AUDIENCE;
  if (!audience) {
    // Without it no token can be told to be tenantgraph's: add nothing (tenantgraph then grants
    // no tenant) and say so in the Action's logs, rather than refuse every sign-in of the tenant.
    console.error('tenantgraph: the Action secret TENANTGRAPH_AUDIENCE is not set; no claims added');
    return;
  }
  // Tokens for other APIs, and sign-ins asking for no API, are none of tenantgraph's business.
  if (!event.resource_server || event.resource_server.identifier !== audience) {
    return;
  }
  const tenantsClaim = secrets.TENANTS_CLAIM || DEFAULT_TENANTS_CLAIM;
  const organizationClaim = secrets.ORGANIZATION_CLAIM || DEFAULT_ORGANIZATION_CLAIM;

  if (event.organization) {
    const metadata = event.organization.metadata || {};
    const tenant = metadata.tenantgraph_tenant;
    const organization = metadata.tenantgraph_organization;
    if (
      typeof tenant !== 'string' ||
      !TENANT_ID.test(tenant) ||
      typeof organization !== 'string' ||
      !ORGANIZATION_ID.test(organization)
    ) {
      api.access.deny(
        `tenantgraph: organization ${event.organization.name || event.organization.id} is not mapped ` +
          'to a customer organization (its metadata needs tenantgraph_tenant and tenantgraph_organization)',
      );
      return;
    }
    api.accessToken.setCustomClaim(tenantsClaim, [tenant]);
    api.accessToken.setCustomClaim(organizationClaim, organization);
    return;
  }

  const tenants = staffTenants(event.user && event.user.app_metadata);
  if (tenants === null) {
    api.access.deny('tenantgraph: app_metadata.tenantgraph_tenants must be "*" or a list of tenant ids');
    return;
  }
  if (tenants !== undefined) {
    api.accessToken.setCustomClaim(tenantsClaim, tenants);
  }
};
