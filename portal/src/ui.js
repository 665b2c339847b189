// Pieces every page shares: states, problems, the quota bar, the one-time secret, confirmation, charts.
import { html, render } from 'lit-html';
import { count } from './format.js';
import { Chart, BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip } from 'chart.js';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);

export const loading = (what = 'Loading…') => html`<p aria-busy="true">${what}</p>`;
export const empty = (text) => html`<p class="muted" data-state="empty">${text}</p>`;
export const problem = (error) => error ? html`<p class="error" role="alert">${error.message ?? String(error)}</p>` : '';
export const notFound = () => html`<h1>Not found</h1>
  <p>This page does not exist, or your sign-in may not open it.</p><p><a href="#/">Back to the start</a></p>`;

/** Used against included calls as a <progress> with the numbers in words beside it. */
export function quotaBar(label, used, included) {
  const percent = included > 0 ? Math.round((used / included) * 100) : 0;
  return html`<div class="quota" data-testid="quota">
    <label>${label}: <strong data-testid="quota-used">${count(used)}</strong> of ${count(included)} included calls (${percent}%)
      <progress max=${Math.max(included, 1)} value=${Math.min(used, Math.max(included, 1))}></progress>
    </label>
    ${used > included ? html`<small class="error">${count(used - included)} calls over the included quota.</small>` : ''}
  </div>`;
}

/** The plaintext of a new key: shown once, with a copy button. */
export function secretReveal(key, onDone) {
  const copy = async (event) => {
    await navigator.clipboard?.writeText(key.key).catch(() => {});
    event.target.textContent = 'Copied';
  };
  return html`<article data-testid="secret-reveal" aria-labelledby="secret-title">
    <h3 id="secret-title">New key ${key.displayPrefix}</h3>
    <p><strong>Copy this secret now: it is shown only once</strong> and cannot be retrieved again.</p>
    <p><code class="secret" data-testid="secret">${key.key}</code></p>
    <div class="row-actions">
      <button type="button" @click=${copy}>Copy to clipboard</button>
      <button type="button" class="secondary" @click=${onDone}>I have stored it</button>
    </div>
  </article>`;
}

/** A modal confirmation: resolves true when confirmed. */
export function confirmAction(title, text, confirmLabel) {
  return new Promise((resolve) => {
    const host = document.createElement('div');
    document.body.append(host);
    const close = (answer) => { dialog.close(); host.remove(); resolve(answer); };
    render(html`<dialog aria-labelledby="confirm-title"><article>
      <h2 id="confirm-title">${title}</h2><p>${text}</p>
      <footer>
        <button type="button" class="secondary" @click=${() => close(false)}>Cancel</button>
        <button type="button" data-testid="confirm" @click=${() => close(true)}>${confirmLabel}</button>
      </footer></article></dialog>`, host);
    const dialog = host.querySelector('dialog');
    dialog.addEventListener('cancel', () => close(false), { once: true });
    dialog.showModal();
  });
}

const palette = ['#1f6feb', '#2da44e', '#bf8700', '#8250df', '#cf222e', '#0a7d8c', '#6e7781'];
const charts = new WeakMap();

/**
 * Calls per day from a usage report with day buckets: calls the API answered stacked by route group (which of them
 * are billed depends on each key's plan: the totals say), rejected calls beside them. Draws into the canvas with the given id (after lit has rendered it); a table of the same numbers is the text
 * alternative.
 */
export function drawDailyChart(canvasId, report) {
  const canvas = document.getElementById(canvasId);
  if (!canvas) return;
  charts.get(canvas)?.destroy();
  const { labels, series } = daily(report);
  const chart = new Chart(canvas, {
    type: 'bar',
    data: {
      labels,
      datasets: series.map((s, i) => ({ label: s.label, data: s.data, stack: s.stack, backgroundColor: s.stack === 'rejected' ? '#cf222e' : palette[i % palette.length] })),
    },
    options: {
      responsive: true, maintainAspectRatio: false, animation: false,
      scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } },
      plugins: { tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${count(c.parsed.y)}` } } },
    },
  });
  charts.set(canvas, chart);
}

/** Day labels (local date of each UTC day) and one series per route group plus one of rejected calls. */
export function daily(report) {
  const days = [];
  for (let t = Date.parse(report.from); t < Date.parse(report.to); t += 86400000) days.push(new Date(t).toISOString().slice(0, 10));
  const index = new Map(days.map((d, i) => [d, i]));
  const groups = new Map();
  const rejected = new Array(days.length).fill(0);
  for (const b of report.buckets) {
    const i = index.get(b.start.slice(0, 10));
    if (i === undefined) continue;
    if (b.statusClass.startsWith('rejected')) { rejected[i] += b.count; continue; }
    if (!/^(\dxx|429)$/.test(b.statusClass)) continue; // the upstream's answers; billable ones are in the totals
    if (!groups.has(b.routeGroup)) groups.set(b.routeGroup, new Array(days.length).fill(0));
    groups.get(b.routeGroup)[i] += b.count;
  }
  const series = [...groups.entries()].sort(([a], [b]) => a.localeCompare(b))
    .map(([group, data]) => ({ label: `${group} (answered)`, data, stack: 'answered' }));
  series.push({ label: 'Rejected', data: rejected, stack: 'rejected' });
  return { labels: days, series };
}

/** The chart's canvas and its numbers as a table (the text alternative). */
export function dailyChart(canvasId, report, caption) {
  const { labels, series } = daily(report);
  return html`<figure>
    <div class="chart"><canvas id=${canvasId} role="img" aria-label=${`${caption}: ${count(report.total)} billable and ${count(report.rejected)} rejected calls`}></canvas></div>
    <figcaption class="muted">${caption}</figcaption>
  </figure>
  <details><summary>Show the numbers</summary><div class="table-wrap" tabindex="0"><table>
    <thead><tr><th scope="col">Day (UTC)</th>${series.map((s) => html`<th scope="col">${s.label}</th>`)}</tr></thead>
    <tbody>${labels.map((d, i) => html`<tr><th scope="row">${d}</th>${series.map((s) => html`<td>${count(s.data[i])}</td>`)}</tr>`)}</tbody>
  </table></div></details>`;
}

/** Totals of a usage report as figures. */
export const usageTotals = (report) => html`<div class="stats" data-testid="usage-totals">
  <article><small>Billable calls</small><strong data-testid="billable">${count(report.total)}</strong></article>
  <article><small>Answered, not billed (plan)</small><strong data-testid="upstream-not-billed">${count(report.upstreamNotBilled ?? 0)}</strong></article>
  <article><small>Rejected by the gateway</small><strong data-testid="rejected">${count(report.rejected)}</strong></article>
  <article><small>Upstream errors</small><strong>${count(report.gatewayErrors)}</strong></article>
  <article><small>Caller left early</small><strong>${count(report.clientAborted)}</strong></article>
</div>`;
