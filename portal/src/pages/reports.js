// The compliance report (admin, compliance): one customer's month — usage by day and route group, each key's quota,
// licence terms in force and evidence, the flags with their decisions — printable, with both tables as CSV downloads.
import { html } from 'lit-html';
import { get, reportUrl } from '../api.js';
import { count, monthOf, time } from '../format.js';
import { dailyChart, drawDailyChart, empty, loading, problem, quotaBar } from '../ui.js';

/** The report's daily rows as the usage report the daily chart draws (day buckets over the month). */
const asUsage = (report) => ({
  from: report.from, to: report.to, total: report.totals.billable, rejected: report.totals.rejected,
  buckets: report.daily.map((d) => ({ start: `${d.day}T00:00:00Z`, routeGroup: d.routeGroup, statusClass: d.statusClass, count: d.count })),
});

const terms = (t) => html`${t.routeGroups.join(', ')} · purposes ${t.purposes.join(', ')} · redistribution ${t.redistribution ? 'allowed' : 'not allowed'}
  · ${t.dailyRecordCap ? `${count(t.dailyRecordCap)} records a day` : 'no daily record cap'} · at most ${t.maxClientNetworks} networks and ${t.maxUserAgents} user agents an hour · kept ${t.retentionDays} days`;

export function reports(ctx) {
  const wanted = new URLSearchParams(window.location.hash.split('?')[1] ?? '');
  const state = { customers: null, customerId: wanted.get('customer') ?? '', period: wanted.get('period') ?? monthOf(), report: null, error: null, loading: false };

  const loadCustomers = async () => {
    try { state.customers = (await get('/customers', { limit: 100 })).items; } catch (e) { state.error = e; state.customers = []; }
    if (!state.customerId && state.customers.length) state.customerId = state.customers[0].id;
    if (state.customerId && !state.customers.some((c) => c.id === state.customerId)) {
      try { state.customers = [await get(`/customers/${encodeURIComponent(state.customerId)}`), ...state.customers]; } catch (e) { state.error = e; }
    }
    await load();
  };
  const load = async () => {
    if (!state.customerId) return draw();
    state.error = null; state.report = null; state.loading = true; draw();
    try { state.report = await get(`/compliance/reports/${encodeURIComponent(state.customerId)}`, { period: state.period }); } catch (e) { state.error = e; }
    state.loading = false;
    if (!ctx.alive()) return;
    draw();
    if (state.report) drawDailyChart('report-daily', asUsage(state.report));
  };
  const choose = (event) => {
    event.preventDefault();
    const f = event.target.elements;
    state.customerId = f.customer.value;
    state.period = f.period.value;
    load();
  };

  const keyRow = (k) => html`<article data-testid="report-key" data-key=${k.keyId}>
    <header><strong>${k.name ?? k.displayPrefix}</strong> · <code>${k.keyId}</code> · plan ${k.plan} · ${k.status}</header>
    ${quotaBar('Quota this month', k.quota.used, k.quota.included)}
    <p>${count(k.calls.billable)} billable, ${count(k.calls.rejected)} refused by the gateway, ${count(k.calls.gatewayErrors)} upstream errors.</p>
    <h4>Licence in force</h4>
    ${k.licences.length === 0 ? empty('No licence recorded for this key.') : html`<ul>${k.licences.map((l) => html`<li>
      Version ${l.version} since ${time(l.since)}, declared purpose <strong>${l.purpose}</strong>: ${terms(l.terms)}</li>`)}</ul>`}
    <h4>Evidence</h4>
    ${k.evidence === null ? empty('No evidence recorded in this month.') : html`<dl class="facts" data-testid="report-evidence">
      <dt>Calls</dt><dd>${count(k.evidence.calls)}</dd>
      <dt>Attempts outside the licence</dt><dd>${count(k.evidence.unlicensedRouteAttempts)}</dd>
      <dt>Attempts after revocation or suspension</dt><dd>${count(k.evidence.attemptsAfterRevocation)}</dd>
      <dt>Refused for the quota</dt><dd>${count(k.evidence.quotaRefusals)}</dd>
      <dt>Hours and days active</dt><dd>${count(k.evidence.hoursActive)} hours on ${count(k.evidence.daysActive)} days</dd>
      <dt>Client networks</dt><dd>${count(k.evidence.distinctNetworks)} distinct, at most ${count(k.evidence.mostNetworksInAnHour)} in an hour</dd>
      <dt>User agents</dt><dd>${count(k.evidence.distinctUserAgents)} distinct, at most ${count(k.evidence.mostUserAgentsInAnHour)} in an hour</dd>
      <dt>Records delivered</dt><dd>${count(k.evidence.recordsDelivered)}, about ${count(k.evidence.distinctRecords)} distinct (±1.6 %)</dd>
      ${k.evidence.saturated ? html`<dt>Note</dt><dd>Some hours reached the gateway's cap on distinct values: the figures are lower bounds.</dd>` : ''}
    </dl>`}
  </article>`;

  const flagRow = (f) => html`<tr>
    <td><code>${f.flag.id}</code></td><td>${f.flag.kind.replaceAll('_', ' ')}</td><td>${f.flag.severity}</td><td>${f.flag.status}</td>
    <td>${time(f.flag.from)} – ${time(f.flag.to)}</td><td class="wrap">${f.flag.summary}</td>
    <td class="wrap">${f.decisions.length === 0 ? html`<span class="muted">none</span>` : f.decisions.map((d) => html`<div>${time(d.time)} ${d.actor}: ${d.summary}</div>`)}</td>
  </tr>`;

  const body = (r) => html`
    <p data-testid="report-heading">${r.customer.name} (<code>${r.customer.id}</code>), ${r.period} (UTC), generated ${time(r.generatedAt)}.</p>
    <p class="no-print row-actions">
      <button type="button" @click=${() => window.print()}>Print</button>
      <a role="button" class="secondary" download href=${reportUrl(r.customer.id, r.period, 'usage')}>Usage as CSV</a>
      <a role="button" class="secondary" download href=${reportUrl(r.customer.id, r.period, 'flags')}>Flags as CSV</a>
    </p>
    <div class="stats" data-testid="report-totals">
      <article><small>Billable calls</small><strong>${count(r.totals.billable)}</strong></article>
      <article><small>Refused by the gateway</small><strong>${count(r.totals.rejected)}</strong></article>
      <article><small>Keys</small><strong>${count(r.keys.length)}</strong></article>
      <article><small>Flags</small><strong>${count(r.flags.length)}</strong></article>
    </div>
    <h2>Usage by day</h2>
    ${r.daily.length === 0 ? empty('No calls in this month.') : dailyChart('report-daily', asUsage(r), `Calls per day in ${r.period}, answered by the API by route group, and refused`)}
    <h2>Keys</h2>
    ${r.keys.length === 0 ? empty('The customer had no key in this month.') : r.keys.map(keyRow)}
    <h2>Flags</h2>
    ${r.flags.length === 0 ? empty('No flag in this month.') : html`<div class="table-wrap" tabindex="0"><table data-testid="report-flags">
      <thead><tr><th scope="col">Flag</th><th scope="col">Kind</th><th scope="col">Severity</th><th scope="col">Status</th><th scope="col">Window</th><th scope="col">Summary</th><th scope="col">Decisions</th></tr></thead>
      <tbody>${r.flags.map(flagRow)}</tbody>
    </table></div>`}`;

  const draw = () => ctx.show(html`
    <h1>Compliance report</h1>
    <form class="inline no-print" @submit=${choose} data-testid="report-filter">
      <label>Customer<select name="customer" .value=${state.customerId}>
        ${(state.customers ?? []).map((c) => html`<option value=${c.id} ?selected=${c.id === state.customerId}>${c.name}</option>`)}
      </select></label>
      <label>Month (UTC)<input type="month" name="period" required .value=${state.period}></label>
      <button type="submit">Show</button>
    </form>
    ${problem(state.error)}
    ${state.customers === null || state.loading ? loading('Loading the report…') : state.report ? body(state.report) : state.error ? '' : empty('No customer yet.')}`);
  draw();
  loadCustomers();
}
