// The tenantgraph explorer: write a GraphQL request, run it against this gateway, read the
// answer and the schema. Plain DOM, no framework, nothing fetched but this origin's /graphql.
//
// The page's Content-Security-Policy enforces Trusted Types: this script never assigns HTML
// (no innerHTML, no insertAdjacentHTML); it builds nodes and sets textContent.
(function () {
  'use strict';

  const byId = (id) => document.getElementById(id);
  const ui = {
    layout: document.querySelector('.layout'),
    example: byId('example'),
    operationControl: byId('operation-control'),
    operation: byId('operation'),
    run: byId('run'),
    runHint: byId('run-hint'),
    prettify: byId('prettify'),
    docsToggle: byId('docs-toggle'),
    identity: byId('identity'),
    query: byId('query'),
    variables: byId('variables'),
    headers: byId('headers'),
    status: byId('status'),
    nextPage: byId('next-page'),
    errors: byId('errors'),
    errorList: byId('error-list'),
    result: byId('result'),
    docs: byId('docs'),
    docsReload: byId('docs-reload'),
    docsSearch: byId('docs-search'),
    docsBack: byId('docs-back'),
    docsTrail: byId('docs-trail'),
    docsStatus: byId('docs-status'),
    docsBody: byId('docs-body'),
  };
  const endpoint = document.body.dataset.endpoint || '/graphql';
  const isMac = /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent);

  // ---------------------------------------------------------------------------------------
  // Small helpers

  /** An element with attributes (`text` sets its text, `on…` adds a listener) and children. */
  function h(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === 'text') node.textContent = value;
      else if (name === 'class') node.className = value;
      else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? '' : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  /** Appends the children that are there (a missing description is `null`). */
  function put(parent, ...children) {
    parent.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  }

  function pretty(value) {
    return JSON.stringify(value, null, 2);
  }

  class InputError extends Error {}

  /** The JSON object in a textarea ({} when empty). */
  function readObject(textarea, what) {
    const text = textarea.value.trim();
    if (text === '') return {};
    let value;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new InputError(`${what} are not valid JSON: ${error.message}`);
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new InputError(`${what} must be a JSON object, like {"name": "value"}.`);
    }
    return value;
  }

  function headerValue(headers, name) {
    const wanted = name.toLowerCase();
    for (const [key, value] of Object.entries(headers)) {
      if (key.toLowerCase() === wanted) return String(value);
    }
    return '';
  }

  /** Whether the headers carry something after `Bearer`. */
  function hasBearer(headers) {
    return /^bearer\s+\S/i.test(headerValue(headers, 'authorization').trim());
  }

  function currentHeaders() {
    try {
      return readObject(ui.headers, 'Headers');
    } catch (error) {
      return null;
    }
  }

  // ---------------------------------------------------------------------------------------
  // Who the token says the caller is. Read without verifying (the gateway verifies): only to
  // choose examples and to show whose token is in the headers.

  function tokenClaims(headers) {
    const authorization = headers ? headerValue(headers, 'authorization') : '';
    const match = /^bearer\s+(\S+)$/i.exec(authorization.trim());
    if (!match) return null;
    const parts = match[1].split('.');
    if (parts.length !== 3) return null;
    try {
      const base64 = parts[1].replace(/-/g, '+').replace(/_/g, '/');
      const padded = base64 + '='.repeat((4 - (base64.length % 4)) % 4);
      const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
      const claims = JSON.parse(new TextDecoder().decode(bytes));
      return claims && typeof claims === 'object' ? claims : null;
    } catch (error) {
      return null;
    }
  }

  /** 'operator' (the token carries permissions), 'user' (an end user's token), or 'none'. */
  function persona(claims) {
    if (!claims) return { kind: 'none', permissions: [] };
    if (Array.isArray(claims.permissions)) {
      return { kind: 'operator', permissions: claims.permissions.map(String), claims };
    }
    return { kind: 'user', permissions: [], claims };
  }

  function describeIdentity() {
    const headers = currentHeaders();
    ui.identity.textContent = '';
    if (headers === null) {
      ui.identity.append('The headers are not valid JSON.');
      return;
    }
    const who = persona(tokenClaims(headers));
    if (who.kind === 'none') {
      ui.identity.append(
        hasBearer(headers)
          ? 'The Authorization header holds no readable JWT.'
          : 'No bearer token: put one after “Bearer ” in the headers, or every request is refused.',
      );
      return;
    }
    const claims = who.claims;
    const parts = [];
    if (who.kind === 'operator') {
      parts.push(h('strong', { text: 'Operator' }), ` ${claims.sub || ''}`);
      const tenantsClaim = Object.keys(claims).find((k) => /\/tenants$/.test(k));
      if (tenantsClaim) {
        const tenants = claims[tenantsClaim];
        parts.push(` · tenants: ${Array.isArray(tenants) ? tenants.join(', ') : String(tenants)}`);
      }
      if (claims.org_id) parts.push(` · organization ${claims.org_id}`);
      parts.push(
        ` · ${who.permissions.length} permission${who.permissions.length === 1 ? '' : 's'}` +
          (who.permissions.length ? `: ${who.permissions.join(' ')}` : ''),
      );
    } else {
      parts.push(h('strong', { text: 'End user' }), ` ${claims.sub || ''}`);
      if (claims.iss) parts.push(` · issuer ${claims.iss}`);
    }
    if (typeof claims.exp === 'number') {
      const left = claims.exp - Date.now() / 1000;
      if (left <= 0) parts.push(' · ', h('span', { class: 'expired', text: 'token expired' }));
      else parts.push(` · expires in ${left > 5400 ? `${Math.round(left / 3600)} h` : `${Math.max(1, Math.round(left / 60))} min`}`);
    }
    ui.identity.append('Token in the headers: ', ...parts);
  }

  // ---------------------------------------------------------------------------------------
  // Examples. Some need real ids or emails: those are found with a small search first
  // (`needsSample`), as the persona in the headers.

  const EXAMPLES = [
    {
      id: 'tenants',
      title: 'Tenants and their health',
      persona: 'any',
      query: `# The tenants this token may see, with the gateway's view of their health.
query Tenants {
  tenants {
    id
    name
    domain
    customDomain
    status
    statusReason
  }
}
`,
      variables: () => ({}),
    },
    {
      id: 'search',
      title: 'Search users, page by page (searchUsers)',
      persona: 'operator',
      needs: ['read:users'],
      query: `# Auth0 user-search syntax over every tenant in reach, merged and paged.
# Run it, then "Next page" puts pageInfo.endCursor into $after.
query SearchUsers($query: String, $first: Int, $after: String) {
  searchUsers(query: $query, first: $first, after: $after, orderBy: EMAIL_ASC) {
    totalCount
    pageInfo {
      hasNextPage
      endCursor
    }
    edges {
      node {
        id
        tenant {
          id
        }
        email
        emailVerified
        name
        lastLogin
      }
    }
  }
}
`,
      variables: () => ({ query: 'email_verified:true', first: 5, after: null }),
    },
    {
      id: 'profile',
      title: "A user's profile page (user)",
      persona: 'operator',
      needs: ['read:users'],
      needsSample: true,
      query: `# Everything a profile page shows, in one request.
query UserProfile($tenant: ID!, $id: ID!) {
  user(tenant: $tenant, id: $id) {
    id
    tenant {
      id
      name
    }
    email
    emailVerified
    name
    nickname
    picture
    createdAt
    lastLogin
    loginsCount
    blocked
    identities {
      connection
      provider
    }
    userMetadata
    appMetadata
    organizations {
      id
      name
      displayName
    }
    roles {
      name
    }
    linkedAccounts {
      id
      tenant {
        id
      }
    }
  }
}
`,
      variables: (sample) => ({ tenant: sample.users[0].tenant, id: sample.users[0].id }),
    },
    {
      id: 'refs',
      title: 'Many users by reference (users(refs:))',
      persona: 'operator',
      needs: ['read:users'],
      needsSample: true,
      query: `# A list page: users from several tenants in the order asked, one batch per tenant.
query UsersByRef($refs: [UserRef!]!) {
  users(refs: $refs) {
    id
    tenant {
      id
    }
    email
    name
    blocked
    lastLogin
  }
}
`,
      variables: (sample) => ({
        refs: spread(sample.users, 3).map((user) => ({ tenant: user.tenant, id: user.id })),
      }),
    },
    {
      id: 'person',
      title: 'A person across tenants (person)',
      persona: 'operator',
      needs: ['read:users'],
      needsSample: true,
      query: `# The accounts that verified one email, side by side, whatever their tenant.
query Person($email: String!) {
  person(email: $email) {
    email
    name
    verified
    accounts {
      id
      tenant {
        id
      }
      emailVerified
      lastLogin
    }
  }
}
`,
      variables: (sample) => ({ email: sample.users[0].email }),
    },
    {
      id: 'stats',
      title: 'Dashboard figures (stats)',
      persona: 'operator',
      needs: ['read:stats'],
      query: `# Figures per tenant and summed; needs read:stats over whole tenants.
query Stats($days: Int) {
  stats(days: $days) {
    users
    blockedUsers
    unverifiedUsers
    activeUsers
    partial
    failedTenants
    tenants {
      tenant {
        id
      }
      users
      activeUsers
    }
    daily {
      date
      logins
      signups
    }
  }
}
`,
      variables: () => ({ days: 7 }),
    },
    {
      id: 'update-user',
      title: "Mutation: change a user's metadata (updateUser)",
      persona: 'operator',
      needs: ['update:users'],
      needsSample: true,
      query: `# A write: sent once, audited, and reflected in every cache before it answers.
mutation UpdateUserMetadata($tenant: ID!, $id: ID!, $metadata: JSON!) {
  updateUser(tenant: $tenant, id: $id, input: { userMetadata: $metadata }) {
    id
    userMetadata
    updatedAt
  }
}
`,
      variables: (sample) => ({
        tenant: sample.users[0].tenant,
        id: sample.users[0].id,
        metadata: { theme: 'dark' },
      }),
    },
    {
      id: 'two-operations',
      title: 'Two operations in one document',
      persona: 'any',
      query: `# A document with several operations: choose the one to run in "Operation"
# (it follows the cursor too).
query TenantIds {
  tenants {
    id
  }
}

query TenantHealth {
  tenants {
    id
    status
    statusReason
  }
}
`,
      variables: () => ({}),
    },
    {
      id: 'me',
      title: 'My profile (me)',
      persona: 'user',
      query: `# An end user's own profile; null for operator tokens.
query Me {
  me {
    id
    tenant {
      id
      name
    }
    email
    emailVerified
    name
    nickname
    lastLogin
    loginsCount
    userMetadata
    organizations {
      name
    }
  }
}
`,
      variables: () => ({}),
    },
    {
      id: 'update-me',
      title: 'Mutation: change my metadata (updateMe)',
      persona: 'user',
      query: `# An end user changes their own profile (never app_metadata, never email).
mutation UpdateMe($metadata: JSON) {
  updateMe(input: { userMetadata: $metadata }) {
    id
    userMetadata
  }
}
`,
      variables: () => ({ metadata: { newsletter: true } }),
    },
  ];

  /** Up to `count` users, from as many tenants as there are. */
  function spread(users, count) {
    const chosen = [];
    const tenants = new Set();
    for (const user of users) {
      if (chosen.length < count && !tenants.has(user.tenant)) {
        chosen.push(user);
        tenants.add(user.tenant);
      }
    }
    for (const user of users) {
      if (chosen.length < count && !chosen.includes(user)) chosen.push(user);
    }
    return chosen;
  }

  function suits(example, who) {
    if (example.persona === 'any') return true;
    if (example.persona !== who.kind) return false;
    return (example.needs || []).every((p) => who.permissions.includes(p));
  }

  function exampleLabel(example, who) {
    if (suits(example, who) || who.kind === 'none') return example.title;
    if (example.persona === 'user') return `${example.title}, for end users`;
    if (example.persona === 'operator' && who.kind === 'user') return `${example.title}, for operators`;
    return `${example.title}, needs ${(example.needs || []).join(' ')}`;
  }

  let shownPersonaKey = null;

  /** The examples menu: those that suit the token's persona first. */
  function renderExamples() {
    const who = persona(tokenClaims(currentHeaders()));
    const key = `${who.kind} ${who.permissions.join(' ')}`;
    if (key === shownPersonaKey) return;
    shownPersonaKey = key;
    const selected = ui.example.value;
    const fitting = EXAMPLES.filter((e) => suits(e, who));
    const others = EXAMPLES.filter((e) => !suits(e, who));
    const option = (e) => h('option', { value: e.id, text: exampleLabel(e, who) });
    ui.example.textContent = '';
    ui.example.append(h('option', { value: '', text: 'Choose an example…' }));
    if (who.kind === 'none') {
      ui.example.append(...EXAMPLES.map(option));
    } else {
      ui.example.append(
        h('optgroup', { label: 'For this token' }, fitting.map(option)),
        h('optgroup', { label: 'Other examples' }, others.map(option)),
      );
    }
    ui.example.value = EXAMPLES.some((e) => e.id === selected) ? selected : '';
  }

  const samples = new Map();

  /** A few users the headers' caller can see (verified emails), found once per token. */
  async function sample(headers) {
    const key = headerValue(headers, 'authorization');
    if (samples.has(key)) return samples.get(key);
    const answer = await post(headers, {
      query:
        'query ExplorerSample { searchUsers(query: "email_verified:true", first: 10) { edges { node { id tenant { id } email } } } }',
      operationName: 'ExplorerSample',
    });
    const edges = answer.json && answer.json.data && answer.json.data.searchUsers
      ? answer.json.data.searchUsers.edges
      : [];
    if (!edges.length) {
      const reason = answer.json && answer.json.errors && answer.json.errors[0]
        ? answer.json.errors[0].message
        : `HTTP ${answer.status}`;
      throw new Error(`no user to show (${reason})`);
    }
    const found = { users: edges.map((e) => ({ id: e.node.id, tenant: e.node.tenant.id, email: e.node.email })) };
    samples.set(key, found);
    return found;
  }

  async function openExample(id) {
    const example = EXAMPLES.find((e) => e.id === id);
    if (!example) return;
    setEditor(ui.query, example.query);
    let variables;
    if (example.needsSample) {
      const headers = currentHeaders() || {};
      setStatus('Looking for users to fill in the variables…', '');
      try {
        variables = example.variables(await sample(headers));
        setStatus(`Example “${example.title}”: variables filled in with users found by searchUsers.`, '');
      } catch (error) {
        variables = example.variables({
          users: [{ id: 'auth0|…', tenant: 'acme-eu', email: 'someone@example.com' }],
        });
        setStatus(`Example “${example.title}”: put real ids in the variables (${error.message}).`, 'partial');
      }
    } else {
      variables = example.variables();
      setStatus(`Example “${example.title}” is in the editor: press Run.`, '');
    }
    setEditor(ui.variables, pretty(variables));
    documentChanged();
  }

  // ---------------------------------------------------------------------------------------
  // Operations in the document, for "Operation" and the operation name sent.

  /** The document's operations: [{name, type, start, end}] (name '' when anonymous). */
  function operations(source) {
    const found = [];
    const token = /#[^\n\r]*|"""[\s\S]*?(?:"""|$)|"(?:[^"\\\n\r]|\\.)*"?|[_A-Za-z][_0-9A-Za-z]*|\.\.\.|[^\s,]/g;
    let braces = 0;
    let parens = 0;
    let pending = null; // an operation whose name may come next
    let current = null;
    let fragment = false;
    for (let match = token.exec(source); match; match = token.exec(source)) {
      const text = match[0];
      const at = match.index;
      if (text[0] === '#' || text[0] === '"') continue;
      if (text === '(') { parens += 1; continue; }
      if (text === ')') { parens = Math.max(0, parens - 1); continue; }
      if (parens > 0) continue;
      if (text === '{') {
        if (braces === 0 && !fragment) {
          current = pending || { name: '', type: 'query', start: at };
          found.push(current);
        }
        pending = null;
        braces += 1;
        continue;
      }
      if (text === '}') {
        braces = Math.max(0, braces - 1);
        if (braces === 0) {
          if (current) current.end = at + 1;
          current = null;
          fragment = false;
        }
        continue;
      }
      if (braces > 0) continue;
      if (/^(query|mutation|subscription)$/.test(text) && !pending && !fragment) {
        pending = { name: '', type: text, start: at };
      } else if (text === 'fragment' && !pending) {
        fragment = true;
      } else if (pending && !pending.name && /^[_A-Za-z]/.test(text)) {
        pending.name = text;
      }
    }
    for (const op of found) if (op.end === undefined) op.end = source.length;
    return found;
  }

  let documentOperations = [];

  function documentChanged() {
    documentOperations = operations(ui.query.value);
    const several = documentOperations.length > 1;
    const previous = ui.operation.value;
    ui.operation.textContent = '';
    documentOperations.forEach((op, index) => {
      ui.operation.append(
        h('option', { value: String(index), text: op.name ? `${op.name} (${op.type})` : `anonymous ${op.type}` }),
      );
    });
    const same = documentOperations.findIndex((op, i) => String(i) === previous && op.name);
    ui.operation.value = same >= 0 ? previous : '0';
    ui.operationControl.hidden = !several;
    followCaret();
  }

  /** With several operations, the one around the caret is the one to run. */
  function followCaret() {
    if (documentOperations.length < 2) return;
    const caret = ui.query.selectionStart;
    const index = documentOperations.findIndex((op) => caret >= op.start && caret <= op.end);
    if (index >= 0) ui.operation.value = String(index);
  }

  function chosenOperationName() {
    if (documentOperations.length < 2) return undefined;
    const op = documentOperations[Number(ui.operation.value)] || documentOperations[0];
    return op.name || undefined;
  }

  // ---------------------------------------------------------------------------------------
  // Editing: Tab indents (Esc, then Tab, leaves), Enter keeps the indentation.

  function setEditor(textarea, text) {
    textarea.value = text;
    textarea.setSelectionRange(0, 0);
    textarea.scrollTop = 0;
  }

  /** Replaces the selection, keeping the browser's undo history where it can. */
  function insertText(textarea, text) {
    textarea.focus();
    if (!document.execCommand || !document.execCommand('insertText', false, text)) {
      textarea.setRangeText(text, textarea.selectionStart, textarea.selectionEnd, 'end');
      textarea.dispatchEvent(new Event('input', { bubbles: true }));
    }
  }

  function indentLines(textarea, outdent) {
    const value = textarea.value;
    const start = value.lastIndexOf('\n', textarea.selectionStart - 1) + 1;
    let end = textarea.selectionEnd;
    if (end > start && value[end - 1] === '\n') end -= 1;
    const lines = value.slice(start, end).split('\n');
    const changed = lines
      .map((line) => (outdent ? line.replace(/^ {1,2}/, '') : `  ${line}`))
      .join('\n');
    textarea.setSelectionRange(start, end);
    insertText(textarea, changed);
    textarea.setSelectionRange(start, start + changed.length);
  }

  function editorKeys(textarea) {
    let escaped = false;
    textarea.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') {
        escaped = true;
        return;
      }
      const leaving = escaped;
      escaped = false;
      if (event.key === 'Tab' && !leaving && !event.ctrlKey && !event.altKey && !event.metaKey) {
        event.preventDefault();
        const multiline = textarea.value.slice(textarea.selectionStart, textarea.selectionEnd).includes('\n');
        if (event.shiftKey || multiline) indentLines(textarea, event.shiftKey);
        else insertText(textarea, '  ');
      } else if (event.key === 'Enter' && !event.ctrlKey && !event.metaKey && !event.shiftKey && !event.altKey) {
        const before = textarea.value.slice(0, textarea.selectionStart);
        const line = before.slice(before.lastIndexOf('\n') + 1);
        let indent = /^\s*/.exec(line)[0];
        if (/[{([]\s*$/.test(line)) indent += '  ';
        event.preventDefault();
        insertText(textarea, `\n${indent}`);
      }
    });
  }

  // ---------------------------------------------------------------------------------------
  // Prettify: one field per line, two spaces per level; arguments stay on their line.

  function prettifyDocument(source) {
    const token = /#[^\n\r]*|"""[\s\S]*?"""|"(?:[^"\\\n\r]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|[_A-Za-z][_0-9A-Za-z]*|\.\.\.|[^\s,]/g;
    const tokens = source.match(token) || [];
    let out = '';
    let depth = 0;
    let parens = 0;
    let brackets = 0;
    let prev = '';
    let prev2 = '';
    const newline = () => {
      out = out.replace(/[ \t]+$/, '');
      out += `\n${'  '.repeat(depth)}`;
    };
    const isValueEnd = (t) => /^[_A-Za-z0-9"\-]/.test(t) || t === ']' || t === '}' || t === '!' || t.startsWith('"');
    for (const t of tokens) {
      const inline = parens > 0 || brackets > 0;
      if (t[0] === '#') {
        if (out && !/\n\s*$/.test(out)) newline();
        out += t;
        newline();
        prev2 = prev; prev = '';
        continue;
      }
      if (inline) {
        if (t === '(' || t === '[') { out += t; if (t === '(') parens += 1; else brackets += 1; }
        else if (t === ')' || t === ']') { out = out.replace(/ $/, ''); out += t; if (t === ')') parens -= 1; else brackets -= 1; }
        else if (t === ':') out += ': ';
        else if (t === '=') out += ' = ';
        else if (t === '{') out += `${isValueEnd(prev) && prev !== ':' ? ', ' : ''}{ `;
        else if (t === '}') out = `${out.replace(/ $/, '')} }`;
        else if (t === '!') out += t;
        else if (t === '@') out += ' @';
        else {
          if (prev !== '(' && prev !== '[' && prev !== '{' && prev !== ':' && prev !== '=' && prev !== '$' && prev !== '@' && isValueEnd(prev)) out += ', ';
          out += t;
        }
        prev2 = prev; prev = t;
        continue;
      }
      if (t === '{') {
        out = `${out.replace(/\s+$/, '')} {`;
        depth += 1;
        newline();
      } else if (t === '}') {
        depth = Math.max(0, depth - 1);
        newline();
        out += '}';
        if (depth === 0) out += '\n\n';
      } else if (t === '(') {
        out = out.replace(/\s+$/, '');
        out += '(';
        parens += 1;
      } else if (t === '[') {
        out += '[';
        brackets += 1;
      } else if (t === ':') {
        out += ': ';
      } else if (t === '@') {
        out = `${out.replace(/\s+$/, '')} @`;
      } else if (t === '$' || t === '!' || t === '=') {
        out += t;
      } else {
        const inSelection = depth > 0;
        const continues = prev === ':' || prev === '@' || prev === '...' || (prev === 'on' && prev2 === '...');
        if (inSelection && !continues && prev !== '{' && out.trim()) newline();
        else if (out && !/[\s([]$/.test(out) && prev !== '@' && prev !== '$' && !(prev === '...' && t !== 'on')) out += ' ';
        out += t;
      }
      prev2 = prev; prev = t;
    }
    return `${out.replace(/\n{3,}/g, '\n\n').trim()}\n`;
  }

  function prettifyAll() {
    const problems = [];
    setEditor(ui.query, prettifyDocument(ui.query.value));
    for (const [textarea, what] of [[ui.variables, 'Variables'], [ui.headers, 'Headers']]) {
      try {
        const value = readObject(textarea, what);
        textarea.value = pretty(value);
      } catch (error) {
        problems.push(error.message);
      }
    }
    documentChanged();
    if (problems.length) setStatus(problems.join(' '), 'bad');
  }

  // ---------------------------------------------------------------------------------------
  // Running a request and showing the answer.

  async function post(headers, body) {
    const started = performance.now();
    const response = await fetch(endpoint, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', ...headers },
      body: JSON.stringify(body),
      credentials: 'omit',
      cache: 'no-store',
      referrerPolicy: 'no-referrer',
    });
    const text = await response.text();
    const elapsed = performance.now() - started;
    let json = null;
    try {
      json = JSON.parse(text);
    } catch (error) {
      json = null;
    }
    return { status: response.status, statusText: response.statusText, text, json, elapsed };
  }

  function setStatus(text, tone) {
    ui.status.textContent = text;
    ui.status.className = `status ${tone || ''}`.trim();
  }

  let running = false;
  let lastPage = null;

  async function run() {
    if (running) return;
    let headers;
    let variables;
    try {
      headers = readObject(ui.headers, 'Headers');
      variables = readObject(ui.variables, 'Variables');
    } catch (error) {
      showProblem(error.message);
      return;
    }
    if (!ui.query.value.trim()) {
      showProblem('The query is empty: write one, or choose an example.');
      return;
    }
    running = true;
    ui.run.setAttribute('aria-busy', 'true');
    ui.run.textContent = 'Running…';
    setStatus('Running…', '');
    const body = { query: ui.query.value, variables };
    const operationName = chosenOperationName();
    if (operationName) body.operationName = operationName;
    try {
      const answer = await post(headers, body);
      showAnswer(answer, variables);
      if (schemaHeadersKey !== JSON.stringify(headers)) loadSchema();
    } catch (error) {
      showProblem(
        error instanceof TypeError && /header/i.test(error.message)
          ? `A header is not valid: ${error.message}`
          : `The request failed before any answer: ${error.message}`,
      );
    } finally {
      running = false;
      ui.run.removeAttribute('aria-busy');
      ui.run.textContent = 'Run';
    }
  }

  function showProblem(message) {
    setStatus(message, 'bad');
    ui.errors.hidden = true;
    ui.nextPage.hidden = true;
    ui.result.textContent = '';
  }

  function formatBytes(n) {
    return n < 1024 ? `${n} B` : `${(n / 1024).toFixed(1)} kB`;
  }

  function showAnswer(answer, variables) {
    const { status, statusText, text, json, elapsed } = answer;
    const errors = json && Array.isArray(json.errors) ? json.errors : [];
    const hasData = json && json.data !== undefined && json.data !== null;
    let tone = 'ok';
    let outcome = '';
    if (status >= 400 || (errors.length && !hasData)) {
      tone = 'bad';
      outcome = errors.length ? ` · ${errors.length} error${errors.length === 1 ? '' : 's'}` : '';
    } else if (errors.length) {
      tone = 'partial';
      outcome = ` · partial: ${errors.length} error${errors.length === 1 ? '' : 's'}`;
    }
    const size = new TextEncoder().encode(text).length;
    setStatus(
      `${status} ${statusText || ''}`.trim() + ` · ${Math.round(elapsed)} ms · ${formatBytes(size)}${outcome}`,
      tone,
    );
    ui.errorList.textContent = '';
    for (const error of errors) ui.errorList.append(describeError(error));
    ui.errors.hidden = errors.length === 0;
    ui.result.textContent = '';
    if (json !== null) ui.result.append(highlight(pretty(json)));
    else ui.result.textContent = text || '(empty body)';

    lastPage = json && hasData ? findPageInfo(json.data) : null;
    ui.nextPage.hidden = !(lastPage && lastPage.hasNextPage && lastPage.endCursor && 'after' in variables);
  }

  function describeError(error) {
    const extensions = error && typeof error.extensions === 'object' && error.extensions ? error.extensions : {};
    const where = [];
    if (Array.isArray(error.path)) where.push(`at ${error.path.join('.')}`);
    if (extensions.tenant) where.push(`tenant ${extensions.tenant}`);
    if (Array.isArray(error.locations) && error.locations[0]) {
      where.push(`line ${error.locations[0].line}, column ${error.locations[0].column}`);
    }
    return h(
      'li',
      {},
      extensions.code ? h('span', { class: 'code-tag', text: String(extensions.code) }) : null,
      String(error && error.message !== undefined ? error.message : pretty(error)),
      where.length ? h('span', { class: 'where', text: ` (${where.join('; ')})` }) : null,
    );
  }

  /** The first `pageInfo` in the data, depth first. */
  function findPageInfo(value) {
    if (!value || typeof value !== 'object') return null;
    if (value.pageInfo && typeof value.pageInfo === 'object') return value.pageInfo;
    for (const child of Object.values(value)) {
      const found = findPageInfo(child);
      if (found) return found;
    }
    return null;
  }

  function nextPage() {
    if (!lastPage || !lastPage.endCursor) return;
    let variables;
    try {
      variables = readObject(ui.variables, 'Variables');
    } catch (error) {
      showProblem(error.message);
      return;
    }
    variables.after = lastPage.endCursor;
    ui.variables.value = pretty(variables);
    run();
  }

  /** Pretty JSON as coloured spans: keys, strings, numbers, literals. */
  function highlight(json) {
    const fragment = document.createDocumentFragment();
    const token = /("(?:[^"\\]|\\.)*")(\s*:)?|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|\b(true|false|null)\b/g;
    let last = 0;
    for (let match = token.exec(json); match; match = token.exec(json)) {
      if (match.index > last) fragment.append(json.slice(last, match.index));
      if (match[1]) {
        fragment.append(h('span', { class: match[2] ? 'k' : 's', text: match[1] }));
        if (match[2]) fragment.append(match[2]);
      } else if (match[3]) {
        fragment.append(h('span', { class: 'n', text: match[3] }));
      } else {
        fragment.append(h('span', { class: 'l', text: match[4] }));
      }
      last = token.lastIndex;
    }
    fragment.append(json.slice(last));
    return fragment;
  }

  // ---------------------------------------------------------------------------------------
  // Schema documentation, from introspection with the current headers.

  const INTROSPECTION = `query ExplorerIntrospection {
  __schema {
    queryType { name }
    mutationType { name }
    subscriptionType { name }
    types {
      kind name description
      fields(includeDeprecated: true) {
        name description isDeprecated deprecationReason
        args { name description defaultValue type { ...TypeRef } }
        type { ...TypeRef }
      }
      inputFields { name description defaultValue type { ...TypeRef } }
      enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
      possibleTypes { name }
      interfaces { name }
    }
  }
}
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } }
}`;

  let schema = null;
  let schemaHeadersKey = null;
  let trail = [];

  async function loadSchema() {
    const headers = currentHeaders();
    if (headers === null) {
      ui.docsStatus.textContent = 'Fix the headers (not valid JSON) to load the schema.';
      return;
    }
    if (!hasBearer(headers)) {
      // Every request needs a token, introspection too: asking without one is refused.
      ui.docsStatus.textContent = 'The schema loads once the headers carry a bearer token: Run, or Reload schema.';
      schemaHeadersKey = null;
      return;
    }
    schemaHeadersKey = JSON.stringify(headers);
    ui.docsStatus.textContent = 'Loading the schema…';
    try {
      const answer = await post(headers, { query: INTROSPECTION, operationName: 'ExplorerIntrospection' });
      const found = answer.json && answer.json.data && answer.json.data.__schema;
      if (!found) {
        const reason = answer.json && answer.json.errors && answer.json.errors[0]
          ? answer.json.errors[0].message
          : `HTTP ${answer.status}`;
        ui.docsStatus.textContent = `The schema could not be loaded: ${reason}`;
        schemaHeadersKey = null;
        return;
      }
      schema = {
        raw: found,
        types: new Map(found.types.map((t) => [t.name, t])),
        roots: [found.queryType, found.mutationType, found.subscriptionType].filter(Boolean).map((t) => t.name),
      };
      ui.docsStatus.textContent = '';
      if (!trail.length || !schema.types.has(trail[trail.length - 1])) trail = [];
      renderDocs();
    } catch (error) {
      ui.docsStatus.textContent = `The schema could not be loaded: ${error.message}`;
      schemaHeadersKey = null;
    }
  }

  function namedType(ref) {
    let type = ref;
    while (type && type.ofType) type = type.ofType;
    return type ? type.name : '';
  }

  /** `[User!]!` with the named type as a link to its page. */
  function typeRef(ref) {
    if (!ref) return '';
    if (ref.kind === 'NON_NULL') return h('span', {}, typeRef(ref.ofType), '!');
    if (ref.kind === 'LIST') return h('span', {}, '[', typeRef(ref.ofType), ']');
    return h('button', { type: 'button', class: 'link', text: ref.name, onclick: () => openType(ref.name) });
  }

  function openType(name) {
    ui.docsSearch.value = '';
    trail.push(name);
    renderDocs(true);
  }

  function back() {
    trail.pop();
    renderDocs(true);
  }

  function isComposite(name) {
    const type = schema && schema.types.get(name);
    return type && ['OBJECT', 'INTERFACE', 'UNION'].includes(type.kind);
  }

  /** What "insert" puts in the query: the field, its required arguments, a selection. */
  function fieldSnippet(field) {
    const required = (field.args || []).filter((a) => a.type.kind === 'NON_NULL' && a.defaultValue === null);
    let text = field.name;
    if (required.length) text += `(${required.map((a) => `${a.name}: `).join(', ')})`;
    const target = namedType(field.type);
    if (isComposite(target)) {
      const type = schema.types.get(target);
      const hasId = (type.fields || []).some((f) => f.name === 'id');
      text += hasId ? ' { id }' : ' { __typename }';
    }
    return text;
  }

  function insertField(field) {
    const textarea = ui.query;
    const start = textarea.selectionStart;
    const before = textarea.value.slice(0, start);
    const pad = before && !/\s$/.test(before) ? ' ' : '';
    insertText(textarea, pad + fieldSnippet(field));
    documentChanged();
  }

  /** A description as prose: its line breaks joined, its blank lines kept. */
  function description(text) {
    return text ? h('p', { class: 'desc', text: text.replace(/([^\n])\n(?!\n)/g, '$1 ') }) : null;
  }

  function fieldItem(field, owner) {
    const args = field.args || [];
    const insertable = schema.roots.includes(owner.name) || owner.kind === 'OBJECT' || owner.kind === 'INTERFACE';
    const name = insertable
      ? h('button', {
        type: 'button',
        class: 'link field-name',
        'aria-label': `Insert ${field.name}`,
        title: 'Insert into the query',
        text: field.name,
        onclick: () => insertField(field),
      })
      : h('strong', { text: field.name });
    return h(
      'li',
      { id: `docs-${owner.name}-${field.name}` },
      h('div', { class: 'sig' }, name, args.length ? `(${args.length === 1 ? '1 argument' : `${args.length} arguments`})` : '', ': ', typeRef(field.type)),
      field.isDeprecated ? h('p', { class: 'deprecated', text: `Deprecated: ${field.deprecationReason || ''}` }) : null,
      description(field.description),
      args.length
        ? h(
          'ul',
          { class: 'args', 'aria-label': `Arguments of ${field.name}` },
          args.map((arg) =>
            h(
              'li',
              {},
              h('span', { class: 'sig' }, h('code', { text: arg.name }), ': ', typeRef(arg.type), arg.defaultValue !== null && arg.defaultValue !== undefined ? ` = ${arg.defaultValue}` : ''),
              description(arg.description),
            )),
        )
        : null,
    );
  }

  function renderDocs(moveFocus) {
    ui.docsBody.textContent = '';
    ui.docsBack.disabled = trail.length === 0;
    ui.docsTrail.textContent = trail.length ? `Schema › ${trail.join(' › ')}` : 'Schema';
    if (!schema) return;
    const query = ui.docsSearch.value.trim();
    if (query) {
      renderSearch(query);
      return;
    }
    if (!trail.length) renderHome();
    else renderType(schema.types.get(trail[trail.length - 1]));
    if (moveFocus) {
      const heading = ui.docsBody.querySelector('h3');
      if (heading) heading.focus();
    }
  }

  function typeList(names) {
    return h(
      'ul',
      {},
      names.map((name) => {
        const type = schema.types.get(name);
        return h('li', {}, h('button', { type: 'button', class: 'link', text: name, onclick: () => openType(name) }), h('span', { class: 'kind', text: ` ${kindName(type.kind)}` }), description(type.description));
      }),
    );
  }

  function kindName(kind) {
    return {
      OBJECT: 'type', INPUT_OBJECT: 'input', ENUM: 'enum', SCALAR: 'scalar', INTERFACE: 'interface', UNION: 'union',
    }[kind] || kind.toLowerCase();
  }

  function renderHome() {
    const visible = [...schema.types.values()].filter((t) => !t.name.startsWith('__'));
    const others = visible.filter((t) => !schema.roots.includes(t.name)).map((t) => t.name).sort();
    put(ui.docsBody, 
      h('h3', { tabindex: '-1', text: 'Root types' }),
      typeList(schema.roots),
      h('h3', { text: 'All types' }),
      typeList(others),
    );
  }

  function renderType(type) {
    if (!type) {
      trail = [];
      renderHome();
      return;
    }
    put(ui.docsBody, 
      h('h3', { tabindex: '-1' }, type.name, h('span', { class: 'kind', text: ` ${kindName(type.kind)}` })),
      description(type.description),
    );
    if (type.fields && type.fields.length) {
      put(ui.docsBody, 
        h('h3', { text: 'Fields' }),
        h('ul', { 'aria-label': `Fields of ${type.name}` }, type.fields.map((f) => fieldItem(f, type))),
      );
    }
    if (type.inputFields && type.inputFields.length) {
      put(ui.docsBody, 
        h('h3', { text: 'Input fields' }),
        h(
          'ul',
          { 'aria-label': `Input fields of ${type.name}` },
          type.inputFields.map((f) =>
            h('li', {}, h('div', { class: 'sig' }, h('strong', { text: f.name }), ': ', typeRef(f.type), f.defaultValue !== null && f.defaultValue !== undefined ? ` = ${f.defaultValue}` : ''), description(f.description))),
        ),
      );
    }
    if (type.enumValues && type.enumValues.length) {
      put(ui.docsBody, 
        h('h3', { text: 'Values' }),
        h(
          'ul',
          { 'aria-label': `Values of ${type.name}` },
          type.enumValues.map((v) =>
            h('li', {}, h('div', { class: 'sig' }, h('strong', { text: v.name })), v.isDeprecated ? h('p', { class: 'deprecated', text: `Deprecated: ${v.deprecationReason || ''}` }) : null, description(v.description))),
        ),
      );
    }
    if (type.possibleTypes && type.possibleTypes.length) {
      put(ui.docsBody, h('h3', { text: 'Possible types' }), typeList(type.possibleTypes.map((t) => t.name)));
    }
  }

  function renderSearch(query) {
    const needle = query.toLowerCase();
    const byName = [];
    const byDescription = [];
    for (const type of schema.types.values()) {
      if (type.name.startsWith('__')) continue;
      const typeHit = { label: type.name, kind: kindName(type.kind), type: type.name, text: type.description };
      if (type.name.toLowerCase().includes(needle)) byName.push(typeHit);
      else if ((type.description || '').toLowerCase().includes(needle)) byDescription.push(typeHit);
      for (const field of [...(type.fields || []), ...(type.inputFields || [])]) {
        const hit = { label: `${type.name}.${field.name}`, kind: 'field', type: type.name, field: field.name, text: field.description };
        const argHit = (field.args || []).find((a) => a.name.toLowerCase().includes(needle));
        if (field.name.toLowerCase().includes(needle)) byName.push(hit);
        else if (argHit) byName.push({ ...hit, label: `${type.name}.${field.name}(${argHit.name})`, kind: 'argument' });
        else if ((field.description || '').toLowerCase().includes(needle)) byDescription.push(hit);
      }
      for (const value of type.enumValues || []) {
        if (value.name.toLowerCase().includes(needle)) {
          byName.push({ label: `${type.name}.${value.name}`, kind: 'value', type: type.name, text: value.description });
        }
      }
    }
    const hits = [...byName, ...byDescription];
    const shown = hits.slice(0, 60);
    put(ui.docsBody, 
      h('h3', { tabindex: '-1', text: hits.length ? `${hits.length} match${hits.length === 1 ? '' : 'es'} for “${query}”` : `Nothing matches “${query}”` }),
      h(
        'ul',
        { 'aria-label': 'Search results' },
        shown.map((hit) =>
          h(
            'li',
            {},
            h('button', {
              type: 'button',
              class: 'link',
              text: hit.label,
              onclick: () => {
                openType(hit.type);
                if (hit.field) {
                  const item = byId(`docs-${hit.type}-${hit.field}`);
                  if (item) item.scrollIntoView({ block: 'center' });
                }
              },
            }),
            h('span', { class: 'kind', text: ` ${hit.kind}` }),
            description(hit.text),
          )),
      ),
    );
  }

  // ---------------------------------------------------------------------------------------
  // Wiring

  const narrow = window.matchMedia('(max-width: 900px)');

  function toggleDocs(show) {
    ui.docs.hidden = !show;
    ui.layout.classList.toggle('no-docs', !show);
    ui.docsToggle.setAttribute('aria-expanded', String(show));
    // On a phone the schema is below everything else: bring it into view.
    if (show && narrow.matches) ui.docs.scrollIntoView({ block: 'start' });
  }

  function start() {
    if (isMac) ui.runHint.textContent = '⌘+Enter';
    const authorization = document.body.dataset.authorization || '';
    setEditor(ui.headers, pretty(authorization ? { Authorization: authorization } : { Authorization: 'Bearer ' }));
    describeIdentity();
    renderExamples();

    const who = persona(tokenClaims(currentHeaders()));
    const opening = who.kind === 'user' ? 'me' : who.kind === 'operator' && who.permissions.includes('read:users') ? 'search' : 'tenants';
    ui.example.value = opening;
    openExample(opening);

    editorKeys(ui.query);
    editorKeys(ui.variables);
    editorKeys(ui.headers);
    ui.query.addEventListener('input', documentChanged);
    for (const event of ['keyup', 'click', 'select']) ui.query.addEventListener(event, followCaret);

    let headerTimer = null;
    ui.headers.addEventListener('input', () => {
      clearTimeout(headerTimer);
      headerTimer = setTimeout(() => {
        describeIdentity();
        renderExamples();
      }, 250);
    });

    ui.example.addEventListener('change', () => openExample(ui.example.value));
    ui.run.addEventListener('click', run);
    ui.prettify.addEventListener('click', prettifyAll);
    ui.nextPage.addEventListener('click', nextPage);
    ui.docsToggle.addEventListener('click', () => toggleDocs(ui.docs.hidden));
    ui.docsReload.addEventListener('click', loadSchema);
    ui.docsBack.addEventListener('click', back);
    ui.docsSearch.addEventListener('input', () => renderDocs(false));
    document.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        run();
      }
    });

    if (narrow.matches) toggleDocs(false);
    loadSchema();
  }

  start();
}());
