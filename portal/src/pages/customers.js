// Customers: search, page through, open one; admins create one.
import { html } from 'lit-html';
import { get, post } from '../api.js';
import { time } from '../format.js';
import { empty, loading, problem } from '../ui.js';

export function customers(ctx) {
  const admin = ctx.session.role === 'admin';
  const state = { items: null, next: null, search: '', error: null, createError: null, busy: false };

  const load = async (more = false) => {
    state.error = null;
    try {
      const page = await get('/customers', { search: state.search, limit: 25, continuationToken: more ? state.next : '' });
      state.items = more ? [...state.items, ...page.items] : page.items;
      state.next = page.continuationToken;
    } catch (e) { state.error = e; state.items ??= []; }
    draw();
  };
  const search = (event) => {
    event.preventDefault();
    state.search = event.target.elements.search.value.trim();
    state.items = null; draw(); load();
  };
  const create = async (event) => {
    event.preventDefault();
    const form = event.target;
    state.busy = true; state.createError = null; draw();
    try {
      const created = await post('/customers', { name: form.elements.name.value, email: form.elements.email.value });
      window.location.hash = `#/customers/${created.id}`;
    } catch (e) { state.createError = e; state.busy = false; draw(); }
  };

  const draw = () => ctx.show(html`
    <h1>Customers</h1>
    <form role="search" class="inline" @submit=${search}>
      <label>Search by name or e-mail<input type="search" name="search" .value=${state.search} autocomplete="off"></label>
      <button type="submit">Search</button>
    </form>
    ${problem(state.error)}
    ${state.items === null ? loading('Loading customers…') : state.items.length === 0 ? empty(state.search ? 'No customer matches.' : 'No customers yet.') : html`
      <div class="table-wrap" tabindex="0"><table data-testid="customers">
        <thead><tr><th scope="col">Name</th><th scope="col">E-mail</th><th scope="col">Id</th><th scope="col">Created</th></tr></thead>
        <tbody>${state.items.map((c) => html`<tr>
          <td><a href=${`#/customers/${c.id}`}>${c.name}</a></td><td>${c.email}</td><td><code>${c.id}</code></td><td>${time(c.createdAt)}</td>
        </tr>`)}</tbody>
      </table></div>
      ${state.next ? html`<button type="button" class="secondary" @click=${() => load(true)}>More customers</button>` : ''}`}
    ${admin ? html`<section aria-labelledby="new-customer">
      <h2 id="new-customer">New customer</h2>
      <form class="inline" @submit=${create} data-testid="create-customer">
        <label>Name<input name="name" required maxlength="100" autocomplete="organization"></label>
        <label>E-mail<input name="email" type="email" required maxlength="254" autocomplete="email"></label>
        <button type="submit" aria-busy=${state.busy ? 'true' : 'false'}>Create customer</button>
      </form>
      ${problem(state.createError)}
    </section>` : ''}`);
  draw();
  load();
}
