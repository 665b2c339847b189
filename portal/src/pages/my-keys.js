// A developer's own keys: issue within the plan's limit, rotate, revoke.
import { html } from 'lit-html';
import { get, getAll, post } from '../api.js';
import { currentMonth, now } from '../format.js';
import { issueForm, keysTable, usedThisMonth } from '../keys.js';
import { loading, problem, secretReveal } from '../ui.js';

export function myKeys(ctx) {
  const id = ctx.session.customerId;
  const state = { customer: null, keys: null, plans: [], used: new Map(), error: null, secret: null, message: '', busy: false };
  const load = async () => {
    try {
      [state.customer, state.keys, state.plans] = await Promise.all([get(`/customers/${id}`), getAll('/keys', { customerId: id }), get('/plans')]);
      state.used = await usedThisMonth(get, id, state.keys, currentMonth());
    } catch (e) { state.error = e; state.keys ??= []; }
    if (ctx.alive()) draw();
  };
  const after = async (result) => {
    if (!result) return;
    state.message = result.message ?? ''; state.secret = result.secret ?? null; state.error = null;
    await load();
  };
  const fail = (e) => { state.error = e; draw(); };
  const issue = async (event) => {
    event.preventDefault();
    const form = event.target;
    state.busy = true; draw();
    try {
      const key = await post('/keys', { customerId: id, plan: form.elements.plan.value, name: form.elements.name.value || undefined });
      form.reset(); state.busy = false;
      await after({ message: `Key ${key.displayPrefix} issued.`, secret: key });
    } catch (e) { state.busy = false; fail(e); }
  };
  const live = () => (state.keys ?? []).filter((k) => k.status !== 'revoked' && !(k.expiresAt && Date.parse(k.expiresAt) <= +now())).length;
  const draw = () => ctx.show(html`
    <h1>My keys${state.customer ? html` <small class="muted">· ${state.customer.name}</small>` : ''}</h1>
    ${problem(state.error)}
    ${state.message ? html`<p role="status" data-testid="message">${state.message}</p>` : ''}
    ${state.secret ? secretReveal(state.secret, () => { state.secret = null; draw(); }) : ''}
    ${state.keys === null ? loading('Loading your keys…') : html`
      ${keysTable(state.keys, state.used, state.plans, { any: true, rotate: true, revoke: true }, after, fail)}
      <h2>Issue a key</h2>
      <p class="muted">You have ${live()} live key${live() === 1 ? '' : 's'}; each plan allows a number of live keys (shown in the list).</p>
      ${issueForm(state.plans, issue, state.busy)}`}`);
  draw();
  load();
}
