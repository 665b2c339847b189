// Compliance flags (admin, compliance): filter, read the evidence, review open → acknowledged → dismissed or
// confirmed with a note (confirming may suspend the key). Admins can also run detection now.
import { html } from 'lit-html';
import { get, post } from '../api.js';
import { count, now, time, utcDay } from '../format.js';
import { confirmAction, empty, loading, problem } from '../ui.js';

const kinds = ['over_quota', 'unlicensed_route', 'use_after_revocation', 'key_sharing', 'bulk_harvesting', 'redistribution_suspected'];
const statuses = ['open', 'acknowledged', 'dismissed', 'confirmed'];

/** What each kind means, in the words compliance staff use. */
const meaning = {
  over_quota: 'Calls kept coming after the monthly quota was used up.',
  unlicensed_route: 'Calls to routes the licence does not cover.',
  use_after_revocation: 'Calls with the key after it was revoked or suspended.',
  key_sharing: 'More client networks or user agents than the licence allows.',
  bulk_harvesting: 'Volume, breadth and cadence that look like building a corpus rather than the declared purpose.',
  redistribution_suspected: 'A canary record delivered to this key was found elsewhere.',
};

/** The reviews a flag may receive next (the API refuses any other move). */
const nextReviews = { open: ['acknowledged'], acknowledged: ['confirmed', 'dismissed'] };

/** "records_delivered" → "records delivered". */
const words = (name) => name.replace(/([a-z])([A-Z])/g, '$1 $2').replaceAll('_', ' ').toLowerCase();

export function flags(ctx) {
  const admin = ctx.session.role === 'admin';
  const state = { filter: { status: 'open', kind: '', customerId: '', keyId: '' }, items: null, next: null, error: null, message: null, scanning: false, history: new Map() };

  const load = async (more = false) => {
    state.error = null;
    if (!more) { state.items = null; draw(); }
    try {
      const page = await get('/compliance/flags', { ...state.filter, limit: 50, continuationToken: more ? state.next : '' });
      state.items = more ? [...state.items, ...page.items] : page.items;
      state.next = page.continuationToken;
    } catch (e) { state.error = e; state.items ??= []; }
    if (ctx.alive()) draw();
  };
  const filter = (event) => {
    event.preventDefault();
    const f = event.target.elements;
    state.filter = { status: f.status.value, kind: f.kind.value, customerId: f.customerId.value.trim(), keyId: f.keyId.value.trim() };
    load();
  };
  const scan = async () => {
    state.scanning = true; state.message = null; state.error = null; draw();
    try {
      const changed = await post('/compliance/scan');
      state.message = `Detection ran: ${changed.items.length} flag(s) raised or updated.`;
    } catch (e) { state.error = e; }
    state.scanning = false;
    await load();
  };
  const loadHistory = async (flag) => {
    if (state.history.has(flag.id)) return;
    state.history.set(flag.id, null); draw();
    const to = new Date(+now() + 86400000);
    const from = new Date(Math.max(Date.parse(flag.from), +to - 31 * 86400000));
    try {
      const page = await get('/audit', { from: utcDay(from), to: utcDay(to), target: flag.id, action: 'compliance.flag-reviewed' });
      state.history.set(flag.id, page.items);
    } catch (e) { state.history.set(flag.id, e); }
    if (ctx.alive()) draw();
  };
  const review = async (event, flag) => {
    event.preventDefault();
    const f = event.target.elements;
    const status = event.submitter?.value;
    const suspendKey = status === 'confirmed' && f.suspendKey?.checked === true;
    if (suspendKey && !await confirmAction('Suspend the key?', `Confirming this flag suspends key ${flag.keyId}: its calls are refused with 402 until an admin reactivates it.`, 'Confirm and suspend')) return;
    state.error = null; state.message = null;
    try {
      const answer = await post(`/compliance/flags/${encodeURIComponent(flag.id)}/review`, { status, note: f.note.value.trim() || null, suspendKey });
      state.message = `Flag ${flag.id} is now ${answer.flag.status}${answer.suspendedKeyId ? `; key ${answer.suspendedKeyId} is suspended` : ''}.`;
      state.items = state.items.map((item) => item.id === flag.id ? answer.flag : item);
      event.target.reset();
      state.history.delete(flag.id);
      await loadHistory(answer.flag);
    } catch (e) { state.error = e; }
    draw();
  };

  const reviewForm = (flag) => {
    const moves = nextReviews[flag.status] ?? [];
    if (moves.length === 0) return html`<p class="muted">Review is closed: this flag was ${flag.status}.</p>`;
    return html`<form @submit=${(e) => review(e, flag)} data-testid="review">
      <label>Note (kept in the audit log)<textarea name="note" maxlength="2000" rows="2"></textarea></label>
      ${moves.includes('confirmed') ? html`<label><input type="checkbox" name="suspendKey" role="switch"> Suspend the key when confirming</label>` : ''}
      <div class="row-actions">${moves.map((m) => html`<button type="submit" name="status" value=${m} class=${m === 'dismissed' ? 'secondary' : ''}>${m === 'acknowledged' ? 'Acknowledge' : m === 'confirmed' ? 'Confirm' : 'Dismiss'}</button>`)}</div>
    </form>`;
  };

  const history = (flag) => {
    const entries = state.history.get(flag.id);
    if (entries === undefined) return ''; // read when the flag is opened
    if (entries === null) return loading('Loading the review history…');
    if (entries instanceof Error) return problem(entries);
    if (entries.length === 0) return empty('Not reviewed yet.');
    return html`<ul data-testid="history">${[...entries].reverse().map((e) => html`<li>${time(e.time)} · ${e.actor} (${e.role}): ${e.summary}</li>`)}</ul>`;
  };

  const detail = (flag) => html`<details @toggle=${(e) => { if (e.target.open) loadHistory(flag); }} data-flag=${flag.id}>
    <summary><strong>${words(flag.kind)}</strong> · ${flag.severity} · key <code>${flag.keyId}</code> · <span data-testid="flag-status">${flag.status}</span></summary>
    <p>${meaning[flag.kind] ?? ''}</p>
    <p data-testid="flag-summary">${flag.summary}</p>
    <dl class="facts">
      <dt>Customer</dt><dd><a href=${`#/customers/${flag.customerId}`}><code>${flag.customerId}</code></a></dd>
      <dt>Window</dt><dd>${time(flag.from)} – ${time(flag.to)}</dd>
      <dt>Declared purpose</dt><dd>${flag.purpose ?? html`<span class="muted">none declared</span>`}</dd>
      <dt>Licence version</dt><dd>${flag.licenceVersion ?? html`<span class="muted">—</span>`}</dd>
    </dl>
    <div class="table-wrap" tabindex="0"><table data-testid="evidence">
      <caption>Evidence</caption>
      <thead><tr><th scope="col">Measure</th><th scope="col">Value</th></tr></thead>
      <tbody>${Object.entries(flag.evidence ?? {}).map(([name, value]) => html`<tr><th scope="row">${words(name)}</th><td>${count(value)}</td></tr>`)}</tbody>
    </table></div>
    <h3>Review</h3>
    ${history(flag)}
    ${reviewForm(flag)}
  </details>`;

  const draw = () => ctx.show(html`
    <h1>Compliance flags</h1>
    <form class="inline" @submit=${filter} data-testid="flag-filter">
      <label>Status<select name="status"><option value="">Any status</option>
        ${statuses.map((s) => html`<option ?selected=${s === state.filter.status}>${s}</option>`)}</select></label>
      <label>Kind<select name="kind"><option value="">Any kind</option>
        ${kinds.map((k) => html`<option value=${k} ?selected=${k === state.filter.kind}>${words(k)}</option>`)}</select></label>
      <label>Customer id<input name="customerId" autocomplete="off" .value=${state.filter.customerId}></label>
      <label>Key id<input name="keyId" autocomplete="off" .value=${state.filter.keyId}></label>
      <button type="submit">Filter</button>
    </form>
    ${admin ? html`<p><button type="button" class="secondary" @click=${scan} aria-busy=${state.scanning ? 'true' : 'false'}>Run detection now</button></p>` : ''}
    ${state.message ? html`<p role="status" data-testid="message">${state.message}</p>` : ''}
    ${problem(state.error)}
    ${state.items === null ? loading('Loading flags…') : state.items.length === 0 ? empty('No flag matches.') : html`
      <section data-testid="flags">${state.items.map(detail)}</section>
      ${state.next ? html`<button type="button" class="secondary" @click=${() => load(true)}>More flags</button>` : ''}`}`);
  draw();
  load();
}
