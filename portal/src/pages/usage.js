// Usage explorer (admin, compliance; read-only): every customer's calls over a period (one request:
// GET /admin/v1/usage/customers), then one customer's calls per day by route group, billable against rejected, and its
// keys' quota this month.
import { html } from 'lit-html';
import { get, getAll } from '../api.js';
import { count, currentMonth, now, utcDay } from '../format.js';
import { usedThisMonth } from '../keys.js';
import { dailyChart, drawDailyChart, empty, loading, problem, quotaBar, usageTotals } from '../ui.js';

const presets = {
  month: () => currentMonth(),
  last7: () => { const to = new Date(+now() + 86400000); return { from: utcDay(new Date(to - 7 * 86400000)), to: utcDay(to) }; },
  lastMonth: () => { const n = now(); return currentMonth(new Date(Date.UTC(n.getUTCFullYear(), n.getUTCMonth() - 1, 1))); },
};

export function usage(ctx) {
  const state = { customers: null, customerId: '', period: presets.month(), overview: null, report: null, keys: [], plans: [], used: new Map(), error: null };

  const loadReport = async () => {
    state.error = null; state.report = null; state.overview = null; draw();
    const { from, to } = state.period;
    try {
      if (!state.customerId || state.customers === null) {
        // One request: the first page of customers with their totals in the period (also the customer picker's list).
        const page = await get('/usage/customers', { from, to, limit: 100 });
        state.overview = page.items;
        state.customers = page.items.map((c) => ({ id: c.customerId, name: c.name }));
      }
      if (state.customerId) {
        const month = currentMonth();
        [state.report, state.keys, state.plans] = await Promise.all([
          get('/usage', { customerId: state.customerId, from, to, granularity: 'day' }),
          getAll('/keys', { customerId: state.customerId }), get('/plans'),
        ]);
        state.used = await usedThisMonth(get, state.customerId, state.keys, month);
      }
    } catch (e) { state.error = e; state.customers ??= []; }
    if (ctx.alive()) draw();
  };
  const choose = (event) => {
    event.preventDefault();
    const f = event.target.elements;
    state.customerId = f.customer.value;
    state.period = { from: f.from.value, to: f.to.value };
    loadReport();
  };
  const preset = (name) => { state.period = presets[name](); loadReport(); };

  const draw = () => {
    const plan = (name) => state.plans.find((p) => p.name === name);
    ctx.show(html`
      <h1>Usage</h1>
      <form class="inline" @submit=${choose} data-testid="usage-filter">
        <label>Customer<select name="customer" .value=${state.customerId}>
          <option value="">All customers (overview)</option>
          ${(state.customers ?? []).map((c) => html`<option value=${c.id} ?selected=${c.id === state.customerId}>${c.name}</option>`)}
        </select></label>
        <label>From (UTC day)<input type="date" name="from" required .value=${state.period.from}></label>
        <label>To (UTC day, exclusive)<input type="date" name="to" required .value=${state.period.to}></label>
        <button type="submit">Show</button>
      </form>
      <p class="row-actions" aria-label="Period presets">
        <button type="button" class="secondary outline" @click=${() => preset('month')}>This month</button>
        <button type="button" class="secondary outline" @click=${() => preset('last7')}>Last 7 days</button>
        <button type="button" class="secondary outline" @click=${() => preset('lastMonth')}>Last month</button>
      </p>
      ${problem(state.error)}
      ${state.customers === null ? loading('Loading customers…') : state.customerId ? customerView(plan) : overviewView()}`);
    if (state.report) drawDailyChart('usage-chart', state.report);
  };
  const overviewView = () => state.overview === null ? loading('Loading usage…') : state.overview.length === 0 ? empty('No customers yet.') : html`
    <div class="table-wrap" tabindex="0"><table data-testid="usage-overview">
      <thead><tr><th scope="col">Customer</th><th scope="col">Billable calls</th><th scope="col">Rejected</th><th scope="col">Upstream errors</th></tr></thead>
      <tbody>${state.overview.map((c) => html`<tr>
        <td><a href=${`#/customers/${c.customerId}`}>${c.name}</a></td><td>${count(c.total)}</td><td>${count(c.rejected)}</td><td>${count(c.gatewayErrors)}</td>
      </tr>`)}</tbody>
    </table></div>`;
  const customerView = (plan) => state.report === null ? loading('Loading usage…') : html`
    ${usageTotals(state.report)}
    ${dailyChart('usage-chart', state.report, 'Calls per day (UTC): answered by the API by route group, and rejected')}
    <section aria-labelledby="quota-title"><h2 id="quota-title">Quota this month, per key</h2>
      ${state.keys.filter((k) => k.status !== 'revoked').length === 0 ? empty('No live keys.') :
        state.keys.filter((k) => k.status !== 'revoked').map((k) => quotaBar(`${k.displayPrefix} (${plan(k.plan)?.displayName ?? k.plan})`, state.used.get(k.id) ?? 0, plan(k.plan)?.monthlyQuota ?? 0))}
    </section>`;
  draw();
  loadReport();
}
