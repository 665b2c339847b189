// Billing: a customer's invoice for a month as the ledger and the plans' prices make it (dry run or not), and for
// admins the reconciliation of ledger, what was reported and what Stripe's meter holds. Developers see their own
// customer's invoice only (the API answers 404 for any other).
import { html } from 'lit-html';
import { get } from '../api.js';
import { count, money, monthOf, time } from '../format.js';
import { empty, loading, problem } from '../ui.js';

const kinds = {
  unreported: 'Counted, not reported yet (the next report run sends it)',
  pending: 'Sent, delivery not confirmed (the next run resends it as it was)',
  'stripe-differs': 'Stripe holds a different count from what was reported: check who sent it',
  'ledger-behind': 'More was reported than the ledger holds: check the usage rows',
};

export function billing(ctx) {
  const admin = ctx.session.role === 'admin';
  const own = ctx.session.role === 'developer' ? ctx.session.customerId : null;
  const state = { customers: own ? [] : null, customerId: own ?? '', period: monthOf(), preview: null, reconciliation: null, error: null, loading: false };

  const loadCustomers = async () => {
    try { state.customers = (await get('/customers', { limit: 100 })).items; } catch (e) { state.error = e; state.customers = []; }
    if (!state.customerId && state.customers.length) state.customerId = state.customers[0].id;
    draw();
    await load();
  };
  const load = async () => {
    if (!state.customerId) return draw();
    state.error = null; state.preview = null; state.reconciliation = null; state.loading = true; draw();
    const query = { customerId: state.customerId, period: state.period };
    try {
      if (admin) {
        state.reconciliation = await get('/billing/reconciliation', query);
        state.preview = state.reconciliation.invoicePreview;
      } else {
        state.preview = await get('/billing/preview', query);
      }
    } catch (e) { state.error = e; }
    state.loading = false;
    if (ctx.alive()) draw();
  };
  const choose = (event) => {
    event.preventDefault();
    const f = event.target.elements;
    if (f.customer) state.customerId = f.customer.value;
    state.period = f.period.value;
    load();
  };

  const draw = () => ctx.show(html`
    <h1>${own ? 'My invoice' : 'Invoices and reconciliation'}</h1>
    <form class="inline" @submit=${choose} data-testid="billing-filter">
      ${own ? '' : html`<label>Customer<select name="customer" .value=${state.customerId}>
        ${(state.customers ?? []).map((c) => html`<option value=${c.id} ?selected=${c.id === state.customerId}>${c.name}</option>`)}
      </select></label>`}
      <label>Month (UTC)<input type="month" name="period" required .value=${state.period}></label>
      <button type="submit">Show</button>
    </form>
    ${problem(state.error)}
    ${state.customers === null || state.loading ? loading('Loading the invoice…')
      : !state.customerId ? empty('No customers yet.')
      : state.preview ? html`${previewView(state.preview)}${state.reconciliation ? reconciliationView(state.reconciliation) : ''}` : ''}`);

  const previewView = (p) => html`
    <section aria-labelledby="preview-title">
      <h2 id="preview-title">Invoice preview, ${p.period}</h2>
      ${p.dryRun ? html`<p class="muted" data-testid="dry-run">Dry run: billing is not connected to Stripe, so this is computed from the gateway's usage and the plans' prices; nothing is sent.</p>` : ''}
      <div class="stats" data-testid="preview-totals">
        <article><small>Total</small><strong>${money(p.total, p.currency)}</strong></article>
        <article><small>Billable calls</small>${count(p.billableCalls)}</article>
        <article><small>Included calls</small>${count(p.includedCalls)}</article>
        <article><small>Overage calls</small>${count(p.overageCalls)}</article>
      </div>
      ${p.lines.length === 0 ? empty('Nothing to invoice for this month.') : html`
        <div class="table-wrap" tabindex="0"><table data-testid="invoice-lines">
          <thead><tr><th scope="col">Key</th><th scope="col">Item</th><th scope="col">Quantity</th><th scope="col">Unit price</th><th scope="col">Amount</th></tr></thead>
          <tbody>${p.lines.map((l) => html`<tr>
            <td><code>${l.displayPrefix}</code></td><td class="wrap">${l.description}</td><td>${count(l.quantity)}</td>
            <td>${money(l.unitAmount, p.currency)}</td><td>${money(l.amount, p.currency)}</td></tr>`)}</tbody>
        </table></div>`}
      <p class="muted">Computed ${time(p.computedAt)}. Calls count when the API's answer is in the plan's billable set (by default 2xx, 3xx and 4xx other than 429); refusals by the gateway and upstream errors are never billed.</p>
    </section>`;

  const reconciliationView = (r) => html`
    <section aria-labelledby="reconciliation-title">
      <h2 id="reconciliation-title">Reconciliation</h2>
      <div class="stats" data-testid="reconciliation-totals">
        <article><small>Ledger (billable)</small>${count(r.ledgerTotal)}</article>
        <article><small>Reported to Stripe</small>${count(r.reportedTotal)}</article>
        <article><small>Stripe's meter</small>${r.stripeTotal === null ? html`<span class="muted">—</span>` : count(r.stripeTotal)}</article>
        <article><small>Stripe's invoice preview</small>${r.stripeAmountDue === null ? html`<span class="muted">—</span>` : money(r.stripeAmountDue, r.invoicePreview.currency)}</article>
      </div>
      ${r.notes.map((n) => html`<p class="muted">${n}</p>`)}
      ${r.differences.length === 0 ? html`<p data-testid="reconciled">Every hour of ${r.period} agrees.</p>` : html`
        <div class="table-wrap" tabindex="0"><table data-testid="differences">
          <thead><tr><th scope="col">Hour</th><th scope="col">Ledger</th><th scope="col">Reported</th><th scope="col">Stripe</th><th scope="col">Why</th></tr></thead>
          <tbody>${r.differences.map((d) => html`<tr>
            <td>${time(d.hour)}</td><td>${count(d.ledger)}</td><td>${count(d.reported)}</td><td>${d.stripe === null ? '—' : count(d.stripe)}</td>
            <td class="wrap">${kinds[d.kind] ?? d.kind}</td></tr>`)}</tbody>
        </table></div>`}
    </section>`;

  draw();
  if (own) load(); else loadCustomers();
}
