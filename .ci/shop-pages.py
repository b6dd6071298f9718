#!/usr/bin/env python3
"""Writes the multi-page example shop's five pages (catalogue, product, cart, checkout,
confirmation) into the staged build from one layout, www/shop/layout.html: each page differs
only by its name and title; store.js renders what it shows. Run by .ci/trunk-post-build."""
import os, sys

shop = sys.argv[1]
pages = {
    "index.html": ("catalogue", "Catalogue"),
    "product.html": ("product", "Product"),
    "cart.html": ("cart", "Cart"),
    "checkout.html": ("checkout", "Checkout"),
    "confirmation.html": ("confirmation", "Order confirmed"),
}
layout_path = os.path.join(shop, "layout.html")
with open(layout_path) as f:
    layout = f.read()
for name, (page, title) in pages.items():
    with open(os.path.join(shop, name), "w") as f:
        f.write(layout.replace("{page}", page).replace("{title}", title))
os.remove(layout_path)  # a template, not a page
print(f"shop pages: {', '.join(pages)} -> {shop}")
