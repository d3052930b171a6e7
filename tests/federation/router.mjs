// A supergraph for tests/api/federation.rs: a small CRM subgraph written for the test and a real
// Apollo Federation 2 router (@apollo/gateway, composing with IntrospectAndCompose) in front of it
// and tenantgraph. Both listen on free loopback ports; once they serve, one line of JSON goes to
// stdout: {"router": "<url>", "crm": "<url>"}. Logs go to stderr. Runs until stdin closes.
//
// Environment:
//   TENANTGRAPH_URL  tenantgraph's /graphql
//   COMPOSE_TOKEN    the bearer token the router fetches `_service { sdl }` with (no caller then)
//   CRM_DATA         {"notes": {"<tenant>/<user id>": ["…"]},
//                     "accounts": [{"name": "…", "owner": {"tenant": "…", "id": "…"} | null,
//                                   "contact": "<email>" | null}]}
//
// The router forwards each caller's Authorization header to both subgraphs.

import { ApolloGateway, IntrospectAndCompose, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';

const { TENANTGRAPH_URL, COMPOSE_TOKEN, CRM_DATA } = process.env;
if (!TENANTGRAPH_URL || !COMPOSE_TOKEN || !CRM_DATA) {
  console.error('TENANTGRAPH_URL, COMPOSE_TOKEN and CRM_DATA must be set');
  process.exit(2);
}
const data = JSON.parse(CRM_DATA);

const quiet = {
  debug() {},
  info() {},
  warn: (message) => console.error(message),
  error: (message) => console.error(message),
};

// The CRM: accounts owned by users of tenantgraph (resolved there), notes on those users
// (resolved here, from the key alone), and a contact person (resolved by tenantgraph from the
// email).
const typeDefs = parse(`
  extend schema
    @link(url: "https://specs.apollo.dev/federation/v2.5", import: ["@key", "@shareable"])

  type Query {
    accounts: [Account!]!
  }

  type Account {
    name: String!
    owner: User
    contact: Person
  }

  type User @key(fields: "tenant { id } id") {
    id: ID!
    tenant: Tenant!
    crmNotes: [String!]!
  }

  type Tenant {
    id: ID! @shareable
  }

  type Person @key(fields: "email", resolvable: false) {
    email: String!
  }
`);

const resolvers = {
  Query: {
    accounts: () =>
      data.accounts.map((account) => ({
        name: account.name,
        owner: account.owner && { tenant: { id: account.owner.tenant }, id: account.owner.id },
        contact: account.contact && { email: account.contact },
      })),
  },
  User: {
    __resolveReference: (user) => user,
    crmNotes: (user) => data.notes[`${user.tenant.id}/${user.id}`] ?? [],
  },
};

const listen = { port: 0, host: '127.0.0.1' };

const crm = new ApolloServer({ schema: buildSubgraphSchema({ typeDefs, resolvers }), logger: quiet });
const { url: crmUrl } = await startStandaloneServer(crm, { listen });

const gateway = new ApolloGateway({
  logger: quiet,
  supergraphSdl: new IntrospectAndCompose({
    subgraphs: [
      { name: 'tenantgraph', url: TENANTGRAPH_URL },
      { name: 'crm', url: crmUrl },
    ],
    introspectionHeaders: { authorization: `Bearer ${COMPOSE_TOKEN}` },
  }),
  buildService: ({ url }) =>
    new RemoteGraphQLDataSource({
      url,
      willSendRequest({ request, context }) {
        if (context?.authorization) {
          request.http.headers.set('authorization', context.authorization);
        }
      },
    }),
});

const router = new ApolloServer({ gateway, logger: quiet });
const { url: routerUrl } = await startStandaloneServer(router, {
  listen,
  context: async ({ req }) => ({ authorization: req.headers.authorization }),
});

process.stdout.write(`${JSON.stringify({ router: routerUrl, crm: crmUrl })}\n`);

const stop = async () => {
  await Promise.allSettled([router.stop(), crm.stop()]);
  process.exit(0);
};
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();
