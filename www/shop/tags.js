// The shop's data layer, as a tag-manager-instrumented shop has it: a classic script in the
// head that pushes the page-level GA4 ecommerce events (a product page's view_item, the
// confirmation page's purchase) before any other script runs. nextevent reads these pushes
// like any analytics tag would; it is not named here.
window.dataLayer = window.dataLayer || [];
window.lumen = (() => {
  const products = window.LUMEN_PRODUCTS || [];
  const byId = new Map(products.map((p) => [String(p.product_id), p]));
  const read = (k, d) => { try { return JSON.parse(sessionStorage.getItem(k)) ?? d; } catch { return d; } };
  /** A GA4 item line for a product (ids and prices as strings, the way shops send them). */
  function item(p, quantity = 1) {
    const cats = (p.category_code || '').split('.').filter(Boolean);
    const line = { item_id: String(p.product_id), item_name: `${p.brand} #${p.product_id}`, item_brand: p.brand, price: p.price.toFixed(2), quantity };
    cats.forEach((c, i) => { line[i === 0 ? 'item_category' : `item_category${i + 1}`] = c; });
    return line;
  }
  const value = (lines) => Number(lines.reduce((s, l) => s + Number(l.price) * l.quantity, 0).toFixed(2));
  const cart = {
    lines: () => read('lumen:cart', []),
    save: (lines) => sessionStorage.setItem('lumen:cart', JSON.stringify(lines)),
  };
  function push(event, lines, extra = {}) {
    window.dataLayer.push({ ecommerce: null }); // GA4's advice: clear the previous ecommerce object
    window.dataLayer.push({ event, ecommerce: { currency: 'USD', value: value(lines), items: lines, ...extra } });
  }
  const page = document.documentElement.dataset.page;
  const params = new URLSearchParams(location.search);
  window.dataLayer.push({ event: 'page_view', page_type: page });
  let product = null, order = null;
  if (page === 'product') {
    product = byId.get(params.get('id') || '') || products[0] || null;
    if (product) push('view_item', [item(product)]);
  }
  if (page === 'confirmation') {
    const id = params.get('order') || '';
    order = read(`lumen:order:${id}`, null);
    // Reloading this page pushes the purchase again, as real confirmation pages do.
    if (order) push('purchase', order.items, { transaction_id: order.id });
  }
  if (page === 'catalogue') window.dataLayer.push({ event: 'view_item_list', ecommerce: { items: products.map((p) => item(p)) } });
  return { products, byId, item, cart, push, page, product, order, read };
})();
