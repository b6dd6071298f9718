// The multi-page example shop's own code (no bundler, no framework): renders the page from
// the catalogue and the cart (sessionStorage), pushes the GA4 events of the shopper's
// actions to dataLayer, and shows nextevent's outlook and offer, which it reads from the
// element's DOM events. Every page has the same panel; the visit carries over.
(() => { // a classic deferred script (see layout.html); its names stay local
const { products, byId, item, cart, push, page, product, order } = window.lumen;
const el = document.querySelector('next-event-predictor');
const status = document.getElementById('status');
const offer = document.getElementById('offer');
const content = document.getElementById('content');
const h = (tag, props = {}, ...children) => { const n = Object.assign(document.createElement(tag), props); n.append(...children); return n; };
const money = (x) => `$${Number(x).toFixed(2)}`;
const link = (p) => `product.html?id=${p.product_id}`;

function cartCount() {
  const n = cart.lines().reduce((s, l) => s + l.quantity, 0);
  document.getElementById('cart-count').textContent = String(n);
}

function addToCart(p) {
  const lines = cart.lines();
  const line = lines.find((l) => l.item_id === String(p.product_id));
  if (line) line.quantity += 1; else lines.push(item(p));
  cart.save(lines);
  push('add_to_cart', [item(p)]);
  cartCount();
}

const renderers = {
  catalogue() {
    content.append(h('h2', { textContent: 'Catalogue' }), h('div', { className: 'grid' }, ...products.map((p) =>
      h('article', { className: 'card' },
        h('h3', {}, h('a', { href: link(p), textContent: p.brand })),
        h('p', { className: 'meta', textContent: `#${p.product_id}${p.category_code ? ' · ' + p.category_code : ''}` }),
        h('p', { className: 'price', textContent: money(p.price) })))));
  },
  product() {
    if (!product) { content.append(h('p', { textContent: 'No such product.' })); return; }
    const add = h('button', { type: 'button', id: 'add', className: 'purchase', textContent: 'Add to cart' });
    add.addEventListener('click', () => { addToCart(product); add.textContent = 'Added — add another'; });
    const others = products.filter((p) => p !== product).slice(0, 4);
    content.append(
      h('p', {}, h('a', { href: 'index.html', textContent: '← Catalogue' })),
      h('h2', { className: 'brand', textContent: product.brand }),
      h('p', { className: 'meta', textContent: `Product #${product.product_id}${product.category_code ? ' · ' + product.category_code : ''}` }),
      h('p', { className: 'price', textContent: money(product.price) }),
      add,
      h('h3', { textContent: 'You may also like' }),
      h('ul', { className: 'also' }, ...others.map((p) => h('li', {}, h('a', { href: link(p), textContent: `${p.brand} · ${money(p.price)}` })))));
  },
  cart() {
    const lines = cart.lines();
    content.append(h('h2', { textContent: 'Your cart' }));
    if (!lines.length) { content.append(h('p', { textContent: 'Your cart is empty. ' }, h('a', { href: 'index.html', textContent: 'Browse the catalogue' }))); return; }
    content.append(h('ul', { className: 'lines' }, ...lines.map((l) => {
      const rm = h('button', { type: 'button', className: 'remove', textContent: 'Remove' });
      rm.setAttribute('aria-label', `Remove ${l.item_name}`);
      rm.addEventListener('click', () => {
        cart.save(cart.lines().filter((x) => x.item_id !== l.item_id));
        push('remove_from_cart', [l]);
        content.replaceChildren(); renderers.cart(); cartCount();
      });
      return h('li', {}, h('span', { textContent: `${l.item_name} × ${l.quantity} · ${money(Number(l.price) * l.quantity)}` }), rm);
    })), h('p', {}, h('a', { href: 'checkout.html', className: 'button', id: 'to-checkout', textContent: 'Checkout' })));
  },
  checkout() {
    const lines = cart.lines();
    content.append(h('h2', { textContent: 'Checkout' }));
    if (!lines.length) { content.append(h('p', { textContent: 'Nothing to check out.' })); return; }
    const total = lines.reduce((s, l) => s + Number(l.price) * l.quantity, 0);
    const place = h('button', { type: 'button', id: 'place', className: 'purchase', textContent: `Place order · ${money(total)}` });
    place.addEventListener('click', () => {
      const id = `T${Date.now().toString(36)}`;
      sessionStorage.setItem(`lumen:order:${id}`, JSON.stringify({ id, items: lines }));
      cart.save([]);
      location.href = `confirmation.html?order=${id}`;
    });
    content.append(h('ul', { className: 'lines' }, ...lines.map((l) => h('li', { textContent: `${l.item_name} × ${l.quantity}` }))), place);
  },
  confirmation() {
    content.append(h('h2', { textContent: order ? `Thank you — order ${order.id}` : 'No such order' }));
    if (order) content.append(h('p', { textContent: `${order.items.length} item line${order.items.length === 1 ? '' : 's'}. ` }, h('a', { href: 'index.html', textContent: 'Continue shopping' })));
  },
};

function showOutlook(d) {
  const probs = document.getElementById('probs');
  probs.replaceChildren(...Object.entries(d.probabilities).map(([k, p]) => {
    const row = h('div', { className: 'prob' + (k === d.next ? ' top' : '') });
    Object.assign(row.dataset, { kind: k, p });
    const fill = document.createElement('span');
    fill.style.width = `${(p * 100).toFixed(1)}%`; // through the CSSOM: fine under a strict CSP
    row.append(h('span', { className: 'k', textContent: k }), h('span', { className: 'bar' }, fill), h('span', { className: 'v', textContent: `${(p * 100).toFixed(1)} %` }));
    return row;
  }));
  status.textContent = `After ${d.observed} event${d.observed === 1 ? '' : 's'} this visit: most likely ${d.next} (${(d.confidence * 100).toFixed(0)} %).`;
  status.dataset.atRisk = d.churnRisk;
}

function showHistory() {
  document.getElementById('log').replaceChildren(...el.history.map((e) => h('li', { textContent: `${e.event_type} · ${e.brand ?? 'no brand'} · ${money(e.price)}` })));
}

// The shop keeps its offer for the visit: shown on the page where the risk crossed, and on
// the following pages while the visit stays at risk (nextevent fires once per crossing).
function showOffer(brand) {
  sessionStorage.setItem('lumen:offer', JSON.stringify({ brand: brand ?? null }));
  offer.textContent = brand ? `Still deciding? Here is 10 % off everything from ${brand} — today only.` : 'Still deciding? Free shipping on your first order.';
  offer.dataset.brand = brand ?? '';
  offer.hidden = false;
}

el.addEventListener('nextevent:ready', (e) => {
  status.textContent = e.detail.restored ? `This visit so far: ${e.detail.restored} events.` : 'A new visit.';
  status.dataset.ready = 'true';
  showHistory();
  const kept = window.lumen.read('lumen:offer', null);
  if (e.detail.atRisk && kept) showOffer(kept.brand);
});
el.addEventListener('nextevent:error', (e) => { status.textContent = `nextevent: ${e.detail.message}`; });
window.addEventListener('nextevent:prediction', (e) => { showOutlook(e.detail); showHistory(); if (!e.detail.churnRisk) { offer.hidden = true; sessionStorage.removeItem('lumen:offer'); } });
window.addEventListener('nextevent:churn-risk', (e) => showOffer(e.detail.favouriteBrand));
document.getElementById('reset').addEventListener('click', () => {
  el.clear();
  cart.save([]);
  sessionStorage.removeItem('lumen:offer');
  offer.hidden = true;
  document.getElementById('log').replaceChildren();
  document.getElementById('probs').replaceChildren();
  cartCount();
  status.textContent = 'A new visit.';
});
renderers[page]?.();
cartCount();
})();
