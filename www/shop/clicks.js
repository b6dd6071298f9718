// The one-page example shop (clicks.html): product cards with data-nextevent-* buttons (the
// element observes the clicks) and reacts to the element's events. No bundler, no framework.
const kinds = [['view', 'View'], ['cart', 'Add to cart'], ['remove_from_cart', 'Remove'], ['purchase', 'Buy']];
const el = document.querySelector('next-event-predictor');
const status = document.getElementById('status');
const offer = document.getElementById('offer');

async function renderProducts() {
  const products = await (await fetch('products.json')).json();
  const box = document.getElementById('products');
  box.replaceChildren(...products.map((p) => {
    const card = document.createElement('article');
    card.className = 'card';
    card.dataset.product = p.product_id;
    const h = document.createElement('h3');
    h.textContent = p.brand;
    const meta = document.createElement('p');
    meta.className = 'meta';
    meta.textContent = `#${p.product_id}${p.category_code ? ' · ' + p.category_code : ''}`;
    const price = document.createElement('p');
    price.className = 'price';
    price.textContent = `$${p.price.toFixed(2)}`;
    const actions = document.createElement('div');
    actions.className = 'actions';
    for (const [kind, label] of kinds) {
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = label;
      b.className = kind;
      b.setAttribute('aria-label', `${label}: ${p.brand} #${p.product_id}`);
      Object.assign(b.dataset, { nexteventType: kind, nexteventProduct: p.product_id, nexteventBrand: p.brand, nexteventPrice: p.price });
      actions.append(b);
    }
    card.append(h, meta, price, actions);
    return card;
  }));
}

function showOutlook(d) {
  const probs = document.getElementById('probs');
  probs.replaceChildren(...Object.entries(d.probabilities).map(([k, p]) => {
    const row = document.createElement('div');
    row.className = 'prob' + (k === d.next ? ' top' : '');
    row.dataset.kind = k;
    row.dataset.p = p;
    // Built node by node, widths set through the CSSOM: the page works under a strict
    // Content-Security-Policy (no inline style attributes).
    const label = Object.assign(document.createElement('span'), { className: 'k', textContent: k });
    const bar = Object.assign(document.createElement('span'), { className: 'bar' });
    const fill = document.createElement('span');
    fill.style.width = `${(p * 100).toFixed(1)}%`;
    bar.append(fill);
    const value = Object.assign(document.createElement('span'), { className: 'v', textContent: `${(p * 100).toFixed(1)} %` });
    row.append(label, bar, value);
    return row;
  }));
  status.textContent = `After ${d.observed} event${d.observed === 1 ? '' : 's'}: most likely ${d.next} (${(d.confidence * 100).toFixed(0)} %).`;
  status.dataset.atRisk = d.churnRisk;
  const li = document.createElement('li');
  li.textContent = `${d.event.event_type} · ${d.event.brand ?? 'no brand'} · $${d.event.price.toFixed(2)}`;
  document.getElementById('log').append(li);
  if (!d.churnRisk) offer.hidden = true;
}

el.addEventListener('nextevent:ready', () => { status.textContent = 'Ready: click a product button.'; status.dataset.ready = 'true'; });
el.addEventListener('nextevent:error', (e) => { status.textContent = `Rejected: ${e.detail.message}`; });
window.addEventListener('nextevent:prediction', (e) => showOutlook(e.detail));
window.addEventListener('nextevent:churn-risk', (e) => {
  const b = e.detail.favouriteBrand;
  offer.textContent = b
    ? `Still deciding? Here is 10 % off everything from ${b} — today only.`
    : 'Still deciding? Free shipping on your first order.';
  offer.dataset.brand = b ?? '';
  offer.hidden = false;
});
document.getElementById('reset').addEventListener('click', () => {
  el.clear();
  offer.hidden = true;
  document.getElementById('log').replaceChildren();
  document.getElementById('probs').replaceChildren();
  status.textContent = 'New shopper: click a product button.';
});
renderProducts().catch((err) => { document.getElementById('products').textContent = `Could not load products: ${err}`; });
