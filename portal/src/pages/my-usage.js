// A developer's usage against the monthly quota, per key, a daily chart, and what the rate limit is.
import { html } from 'lit-html';
import { get, getAll } from '../api.js';
import { count, currentMonth } from '../format.js';
import { usedThisMonth } from '../keys.js';
import { dailyChart, drawDailyChart, empty, loading, problem, quotaBar, usageTotals } from '../ui.js';

export function myUsage(ctx) {
  const id = ctx.session.customerId;
  const month = currentMonth();
  const state = { keys: null, plans: [], used: new Map(), report: null, error: null };
  const load = async () => {
    try {
      [state.keys, state.plans, state.report] = await Promise.all([
        getAll('/keys', { customerId: id }), get('/plans'), get('/usage', { customerId: id, from: month.from, to: month.to, granularity: 'day' })]);
      state.used = await usedThisMonth(get, id, state.keys, month);
    } catch (e) { state.error = e; state.keys ??= []; }
    if (ctx.alive()) draw();
  };
  const draw = () => {
    const plan = (name) => state.plans.find((p) => p.name === name);
    const live = (state.keys ?? []).filter((k) => k.status !== 'revoked');
    ctx.show(html`
      <h1>Usage and limits</h1>
      ${problem(state.error)}
      ${state.keys === null ? loading('Loading your usage…') : html`
        <section aria-labelledby="quota-title"><h2 id="quota-title">This month against your quota</h2>
          <p class="muted">Each key has its plan's monthly quota of included calls; the month is the UTC calendar month.</p>
          ${live.length === 0 ? empty('No live keys: issue one under My keys.') : live.map((k) => quotaBar(`${k.displayPrefix} (${plan(k.plan)?.displayName ?? k.plan})`, state.used.get(k.id) ?? 0, plan(k.plan)?.monthlyQuota ?? 0))}
        </section>
        <section aria-labelledby="daily-title"><h2 id="daily-title">Calls per day</h2>
          ${state.report ? html`${usageTotals(state.report)}${dailyChart('my-chart', state.report, 'Your calls per day (UTC) by route group, and rejected calls')}` : ''}
        </section>
        <section aria-labelledby="limits-title"><h2 id="limits-title">Rate limits</h2>
          ${live.length === 0 ? empty('No live keys.') : html`<div class="table-wrap" tabindex="0"><table data-testid="limits">
            <thead><tr><th scope="col">Key</th><th scope="col">Plan</th><th scope="col">Requests per second</th><th scope="col">Burst</th><th scope="col">When the quota is used up</th></tr></thead>
            <tbody>${live.map((k) => html`<tr><td><code>${k.displayPrefix}</code></td><td>${plan(k.plan)?.displayName ?? k.plan}</td>
              <td>${count(plan(k.plan)?.requestsPerSecond)}</td><td>${count(plan(k.plan)?.burst)}</td>
              <td>${plan(k.plan)?.overQuota === 'bill' ? 'calls go on and are billed as overage' : 'calls are refused (429) until the next month'}</td></tr>`)}</tbody>
          </table></div>`}
          <p>Every answer to a call with a valid key carries the rate limit's state:</p>
          <dl>
            <dt><code>X-RateLimit-Limit</code></dt><dd>the burst: how many calls the key may make at once.</dd>
            <dt><code>X-RateLimit-Remaining</code></dt><dd>how many calls it may make right now, before it has to wait.</dd>
            <dt><code>X-RateLimit-Reset</code></dt><dd>seconds until the allowance is full again.</dd>
            <dt><code>Retry-After</code></dt><dd>on a 429 answer: seconds to wait before the next call.</dd>
          </dl>
        </section>`}`);
    if (state.report) drawDailyChart('my-chart', state.report);
  };
  draw();
  load();
}
