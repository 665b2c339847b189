// One customer: details, keys with quota bars and (admin) actions, this month's usage by day.
import { html } from 'lit-html';
import { get, getAll, post } from '../api.js';
import { currentMonth, time } from '../format.js';
import { issueForm, keysTable, usedThisMonth } from '../keys.js';
import { dailyChart, drawDailyChart, loading, notFound, problem, secretReveal, usageTotals } from '../ui.js';

export function customer(ctx) {
  const admin = ctx.session.role === 'admin';
  const id = decodeURIComponent(ctx.params.id);
  const month = currentMonth();
  const state = { customer: null, keys: [], plans: [], used: new Map(), report: null, error: null, missing: false, secret: null, message: '', busy: false };

  const load = async () => {
    try {
      state.customer = await get(`/customers/${encodeURIComponent(id)}`);
    } catch (e) {
      if (e.status === 404) { state.missing = true; return draw(); }
      state.error = e; return draw();
    }
    try {
      [state.keys, state.plans, state.report] = await Promise.all([
        getAll('/keys', { customerId: id }),
        get('/plans'),
        get('/usage', { customerId: id, from: month.from, to: month.to, granularity: 'day' }),
      ]);
      state.used = await usedThisMonth(get, id, state.keys, month);
    } catch (e) { state.error = e; }
    draw();
  };
  const after = async (result) => {
    if (!result) return;
    state.message = result.message ?? '';
    state.secret = result.secret ?? null;
    state.error = null;
    await load();
  };
  const fail = (e) => { state.error = e; draw(); };
  const issue = async (event) => {
    event.preventDefault();
    const form = event.target;
    state.busy = true; draw();
    try {
      const key = await post('/keys', { customerId: id, plan: form.elements.plan.value, name: form.elements.name.value || undefined });
      form.reset();
      state.busy = false;
      await after({ message: `Key ${key.displayPrefix} issued.`, secret: key });
    } catch (e) { state.busy = false; fail(e); }
  };

  const draw = () => {
    if (state.missing) return ctx.show(notFound());
    const c = state.customer;
    ctx.show(html`
      ${c ? html`<h1>${c.name}</h1>
        <p><a href="#/customers">← All customers</a> · <a href=${`#/reports?customer=${encodeURIComponent(c.id)}`}>Compliance report</a></p>
        <div class="stats"><article><small>E-mail</small>${c.email}</article><article><small>Id</small><code>${c.id}</code></article>
          <article><small>Customer since</small>${time(c.createdAt)}</article></div>` : loading('Loading the customer…')}
      ${problem(state.error)}
      ${state.message ? html`<p role="status" data-testid="message">${state.message}</p>` : ''}
      ${state.secret ? secretReveal(state.secret, () => { state.secret = null; draw(); }) : ''}
      <section aria-labelledby="keys-title">
        <h2 id="keys-title">Keys</h2>
        ${keysTable(state.keys, state.used, state.plans, admin ? { any: true, plan: true, rotate: true, suspend: true, revoke: true } : { any: false }, after, fail)}
        ${admin && state.plans.length ? html`<h3>Issue a key</h3>${issueForm(state.plans, issue, state.busy)}` : ''}
      </section>
      <section aria-labelledby="usage-title">
        <h2 id="usage-title">Usage this month</h2>
        ${state.report ? html`${usageTotals(state.report)}${dailyChart('customer-chart', state.report, 'Calls per day (UTC) by route group')}` : loading('Loading usage…')}
      </section>`);
    if (state.report) drawDailyChart('customer-chart', state.report);
  };
  draw();
  load();
}
