// The audit log (admin, compliance; read-only) with its filters.
import { html } from 'lit-html';
import { get } from '../api.js';
import { now, time, utcDay } from '../format.js';
import { empty, loading, problem } from '../ui.js';

const actions = ['customer.created', 'customer.updated', 'customer.deleted', 'key.issued', 'key.renamed', 'key.plan-changed',
  'key.rotated', 'key.revoked', 'key.suspended', 'key.reactivated', 'token.issued', 'sign-in.portal', 'sign-in.failed'];

export function audit(ctx) {
  const today = now();
  const state = { filter: { from: utcDay(new Date(today - 6 * 86400000)), to: utcDay(new Date(+today + 86400000)), actor: '', action: '', target: '' }, page: null, error: null };
  const load = async () => {
    state.error = null; state.page = null; draw();
    try { state.page = await get('/audit', state.filter); } catch (e) { state.error = e; }
    if (ctx.alive()) draw();
  };
  const submit = (event) => {
    event.preventDefault();
    const f = event.target.elements;
    state.filter = { from: f.from.value, to: f.to.value, actor: f.actor.value.trim(), action: f.action.value, target: f.target.value.trim() };
    load();
  };
  const draw = () => ctx.show(html`
    <h1>Audit log</h1>
    <form class="inline" @submit=${submit} data-testid="audit-filter">
      <label>From (UTC day)<input type="date" name="from" required .value=${state.filter.from}></label>
      <label>To (UTC day, exclusive)<input type="date" name="to" required .value=${state.filter.to}></label>
      <label>Actor<input name="actor" autocomplete="off" .value=${state.filter.actor}></label>
      <label>Action<select name="action"><option value="">Any action</option>
        ${actions.map((a) => html`<option ?selected=${a === state.filter.action}>${a}</option>`)}</select></label>
      <label>Target<input name="target" autocomplete="off" .value=${state.filter.target}></label>
      <button type="submit">Filter</button>
    </form>
    ${problem(state.error)}
    ${state.page === null ? (state.error ? '' : loading('Loading the audit log…')) : state.page.items.length === 0 ? empty('No entries match.') : html`
      ${state.page.truncated ? html`<p class="muted">More entries match than one page shows: narrow the period or filters.</p>` : ''}
      <div class="table-wrap" tabindex="0"><table data-testid="audit">
        <thead><tr><th scope="col">Time</th><th scope="col">Actor</th><th scope="col">Role</th><th scope="col">Action</th><th scope="col">Target</th><th scope="col">Source</th><th scope="col">Summary</th></tr></thead>
        <tbody>${[...state.page.items].reverse().map((e) => html`<tr>
          <td>${time(e.time)}</td><td>${e.actor}</td><td>${e.role}</td><td><code>${e.action}</code></td><td>${e.target}</td><td>${e.source ?? ''}</td><td class="wrap">${e.summary}</td>
        </tr>`)}</tbody>
      </table></div>`}`);
  draw();
  load();
}
