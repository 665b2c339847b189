// The portal's shell: configuration, the session, the role-aware menu and the hash router. A page is one entry in
// `pages` (path pattern, roles, menu label) and one module that renders into <main>.
import { html, render } from 'lit-html';
import { configure, get, call, ApiError, entraConfig } from './api.js';
import { entraSignedIn, signOutOfMicrosoft, startEntra } from './entra.js';
import { signIn } from './pages/signin.js';
import { customers } from './pages/customers.js';
import { customer } from './pages/customer.js';
import { usage } from './pages/usage.js';
import { audit } from './pages/audit.js';
import { myKeys } from './pages/my-keys.js';
import { myUsage } from './pages/my-usage.js';
import { guide } from './pages/guide.js';
import { billing } from './pages/billing.js';
import { flags } from './pages/flags.js';
import { reports } from './pages/reports.js';
import { notFound } from './ui.js';
import { setServerNow } from './format.js';

const Admin = 'admin', Compliance = 'compliance', Developer = 'developer';

/** Every page: where it lives, who may open it, its menu label (none: not in the menu). */
const pages = [
  { path: /^\/customers$/, roles: [Admin, Compliance], menu: 'Customers', href: '#/customers', page: customers },
  { path: /^\/customers\/(?<id>[^/]+)$/, roles: [Admin, Compliance], page: customer },
  { path: /^\/usage$/, roles: [Admin, Compliance], menu: 'Usage', href: '#/usage', page: usage },
  { path: /^\/audit$/, roles: [Admin, Compliance], menu: 'Audit log', href: '#/audit', page: audit },
  { path: /^\/flags$/, roles: [Admin, Compliance], menu: 'Flags', href: '#/flags', page: flags },
  { path: /^\/reports$/, roles: [Admin, Compliance], menu: 'Reports', href: '#/reports', page: reports },
  { path: /^\/billing$/, roles: [Admin], menu: 'Billing', href: '#/billing', page: billing },
  { path: /^\/keys$/, roles: [Developer], menu: 'My keys', href: '#/keys', page: myKeys },
  { path: /^\/my-usage$/, roles: [Developer], menu: 'Usage and limits', href: '#/my-usage', page: myUsage },
  { path: /^\/invoice$/, roles: [Developer], menu: 'Invoice', href: '#/invoice', page: billing },
  { path: /^\/guide$/, roles: [Developer], menu: 'Calling the API', href: '#/guide', page: guide },
];

const home = { [Admin]: '#/customers', [Compliance]: '#/flags', [Developer]: '#/keys' };
const header = document.getElementById('top');
const main = document.getElementById('main');
let session = null;
let generation = 0;

/** Why the admin API refused a Microsoft sign-in (shown on the sign-in page), or null. */
let refusal = null;

async function loadSession() {
  try {
    session = await get('/session');
    setServerNow(session.now);
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 401) throw e;
    session = null;
    if (entraSignedIn()) refusal = e;
  }
}

async function signOut() {
  if (entraSignedIn()) {
    session = null;
    await signOutOfMicrosoft();
    return;
  }
  await call('DELETE', '/session');
  session = null;
  window.location.hash = '#/signin';
}

function renderHeader(current) {
  const menu = session ? pages.filter((p) => p.menu && p.roles.includes(session.role)) : [];
  render(html`
    <nav aria-label="Main">
      <ul><li><strong>Gateway portal</strong></li></ul>
      <ul>
        ${menu.map((p) => html`<li><a href=${p.href} aria-current=${p.href === current ? 'page' : 'false'}>${p.menu}</a></li>`)}
        ${session ? html`
          <li><span class="muted" data-testid="who">${session.subject} · ${session.role}</span></li>
          <li><button type="button" class="secondary outline" @click=${signOut}>Sign out</button></li>` : ''}
      </ul>
    </nav>`, header);
}

/** Renders the page the hash names; a page the role may not open reads as not found, like the API answers. */
async function route() {
  const mine = ++generation;
  const path = (window.location.hash.replace(/^#/, '') || '/').split('?')[0];
  if (!session && path !== '/signin') {
    window.location.hash = '#/signin';
    return;
  }
  if (session && (path === '/' || path === '/signin')) {
    window.location.hash = home[session.role] ?? '#/signin';
    return;
  }
  renderHeader(`#${path}`);
  const context = {
    session,
    main,
    /** Renders into <main> unless the viewer has gone to another page meanwhile. */
    show: (template) => { if (mine === generation) render(template, main); },
    alive: () => mine === generation,
    signedIn: async () => { await loadSession(); window.location.hash = home[session?.role] ?? '#/signin'; },
  };
  if (path === '/signin') {
    document.title = 'Sign in · Gateway portal';
    return signIn({ ...context, refusal });
  }
  for (const entry of pages) {
    const match = entry.path.exec(path);
    if (match && entry.roles.includes(session.role)) {
      document.title = `${entry.menu ?? 'Customer'} · Gateway portal`;
      return entry.page({ ...context, params: match.groups ?? {} });
    }
  }
  document.title = 'Not found · Gateway portal';
  context.show(notFound());
}

async function start() {
  await configure();
  await startEntra(entraConfig());
  await loadSession();
  main.replaceChildren(); // the static "Loading the portal…": lit-html renders beside what it did not render
  window.addEventListener('hashchange', () => { route().catch(fail); main.focus({ preventScroll: true }); });
  await route();
}

function fail(error) {
  render(html`<article class="error" role="alert"><h2>Something went wrong</h2><p>${error.message}</p></article>`, main);
}

start().catch(fail);
