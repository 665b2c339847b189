// The admin API client: one place that knows the base URL (config.json), sends the CSRF header (session cookie) or the
// Entra access token (Authorization: Bearer), and turns problem+json answers into errors in words.
import { accessToken } from './entra.js';

/** The header every change made with the session cookie must carry (checked by the gateway). */
export const PortalHeader = 'X-Gateway-Portal';

let base = '';
let dataPlane = null;
let entra = null;
let tokenSignIn = true;

/**
 * Reads config.json beside index.html: {"apiBase": ""} means the same origin (the gateway's admin port);
 * "dataPlaneUrl" is where callers reach the API (null: not configured).
 */
export async function configure() {
  const answer = await fetch('config.json', { cache: 'no-cache' });
  if (answer.ok) {
    const config = await answer.json();
    base = (config.apiBase ?? '').replace(/\/$/, '');
    dataPlane = config.dataPlaneUrl ? config.dataPlaneUrl.replace(/\/$/, '') : null;
    entra = config.entra ?? null;
    tokenSignIn = config.tokenSignIn ?? true;
  }
}

/** Entra ID sign-in ({authority, clientId, scope}) when configured, else null. */
export const entraConfig = () => entra;

/** Whether the pasted-token sign-in is offered (the gateway's session API; not on the Static Web App). */
export const offersTokenSignIn = () => tokenSignIn;

/** The API's base URL as callers reach it: configured, or (one machine) this host on the data port 8080. */
export const dataPlaneUrl = () => dataPlane ?? `${window.location.protocol}//${window.location.hostname}:8080`;

/** An answer that was not 2xx, carrying the problem's words. */
export class ApiError extends Error {
  constructor(status, problem) {
    const fields = problem?.errors ? Object.entries(problem.errors).map(([f, m]) => `${f}: ${[].concat(m).join(' ')}`) : [];
    const words = [problem?.title, problem?.detail, ...fields].filter(Boolean);
    super(words.length ? words.join(' — ') : `The server answered ${status}.`);
    this.status = status;
    this.problem = problem;
  }
}

/** Calls /admin/v1{path}. Query values that are empty are left out. */
export async function call(method, path, { query, body } = {}) {
  const url = new URL(`${base}/admin/v1${path}`, window.location.href);
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== '') url.searchParams.set(name, value);
  }
  const headers = { [PortalHeader]: '1', Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const bearer = await accessToken();
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  let answer;
  try {
    answer = await fetch(url, {
      method, headers, credentials: 'same-origin', cache: 'no-store',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, { title: 'The admin API cannot be reached.', detail: 'Check your connection and try again.' });
  }
  if (answer.status === 204) return null;
  const type = answer.headers.get('Content-Type') ?? '';
  const json = type.includes('json') ? await answer.json() : null;
  if (!answer.ok) throw new ApiError(answer.status, json);
  return json;
}

export const get = (path, query) => call('GET', path, { query });

/**
 * Every item of a paged list ({items, continuationToken}), following the tokens, at most `max` items (the pages a
 * person can use; a customer with more keys than that is listed in part).
 */
export async function getAll(path, query, max = 5000) {
  const items = [];
  let continuationToken;
  do {
    const page = await get(path, { ...query, limit: 1000, continuationToken });
    items.push(...page.items);
    continuationToken = page.continuationToken;
  } while (continuationToken && items.length < max);
  return items;
}
export const post = (path, body) => call('POST', path, { body: body ?? {} });
export const put = (path, body) => call('PUT', path, { body });
export const del = (path) => call('DELETE', path);

/** Where a compliance report's CSV table downloads from (a GET: the session cookie is enough, no CSRF header needed). */
export const reportUrl = (customerId, period, table) =>
  `${base}/admin/v1/compliance/reports/${encodeURIComponent(customerId)}?${new URLSearchParams({ period, format: 'csv', table })}`;
