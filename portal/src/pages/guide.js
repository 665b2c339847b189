// How to call the API: base URL, both header styles, a curl example with the key's display prefix, the problem types.
import { html } from 'lit-html';
import { dataPlaneUrl, getAll } from '../api.js';
import { empty, loading, problem } from '../ui.js';

const problems = [
  ['missing-api-key', 401, 'No key was sent.'],
  ['malformed-api-key', 401, 'The key is mistyped or cut short (its checksum does not match).'],
  ['invalid-api-key', 401, 'No such key.'],
  ['revoked-api-key', 401, 'The key was revoked, or replaced by a rotation whose overlap has ended.'],
  ['key-suspended', 402, 'The key is suspended for non-payment.'],
  ['route-not-in-plan', 403, 'Your plan does not cover this API.'],
  ['rate-limited', 429, 'Too many calls at once: wait Retry-After seconds.'],
  ['quota-exhausted', 429, 'The monthly quota is used up (plans that refuse beyond it).'],
  ['route-not-found', 404, 'No such API.'],
  ['too-many-key-lookups', 429, 'Too many unknown keys from your network.'],
  ['upstream-unavailable', 502, 'The API behind the gateway could not be reached; not billed.'],
  ['upstream-timeout', 504, 'The API behind the gateway did not answer in time; not billed.'],
];

export function guide(ctx) {
  const state = { keys: null, error: null };
  const dataPlane = dataPlaneUrl();
  const load = async () => {
    try { state.keys = await getAll('/keys', { customerId: ctx.session.customerId }); } catch (e) { state.error = e; state.keys = []; }
    if (ctx.alive()) draw();
  };
  const draw = () => {
    const key = (state.keys ?? []).find((k) => k.status === 'active');
    const shown = key ? `${key.displayPrefix}…` : 'YOUR_KEY';
    ctx.show(html`
      <h1>Calling the API</h1>
      ${problem(state.error)}
      <p>Send your key with every call, in either header (not both with different keys):</p>
      <ul><li><code>Authorization: Bearer &lt;key&gt;</code></li><li><code>X-Api-Key: &lt;key&gt;</code></li></ul>
      <p>The API's base URL is <code data-testid="base-url">${dataPlane}</code>. The portal never shows a key's secret again after it was issued: replace the prefix below with the
        whole key you stored.</p>
      ${state.keys === null ? loading() : html`
        <pre tabindex="0"><code data-testid="curl">curl -H "Authorization: Bearer ${shown}" ${dataPlane}/v1/posts/1

curl -H "X-Api-Key: ${shown}" "${dataPlane}/v1/search?q=gateway"</code></pre>
        ${key ? '' : empty('You have no active key yet: issue one under My keys.')}
        <p>Your own usage and rate limit, with your key (never counted as a call): <code>GET ${dataPlane}/_gateway/usage</code>.</p>`}
      <h2>Errors you may receive</h2>
      <p>Errors are <code>application/problem+json</code> (RFC 9457) with a stable <code>type</code>; switch on it, not on the words.</p>
      <div class="table-wrap" tabindex="0"><table data-testid="problems">
        <thead><tr><th scope="col">type</th><th scope="col">Status</th><th scope="col">Meaning</th></tr></thead>
        <tbody>${problems.map(([type, status, meaning]) => html`<tr><td><code>urn:gateway:problem:${type}</code></td><td>${status}</td><td class="wrap">${meaning}</td></tr>`)}</tbody>
      </table></div>`);
  };
  draw();
  load();
}
