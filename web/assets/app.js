// Placeholder SPA: lists products from the read model through the public API.
const list = document.getElementById('products');
const yen = (n) => `¥${Number(n).toLocaleString('ja-JP')}`;

async function load(q) {
  const url = q ? `/products?q=${encodeURIComponent(q)}` : '/products';
  const res = await fetch(url);
  const page = await res.json();
  list.replaceChildren();
  if (!page.items || page.items.length === 0) {
    const li = document.createElement('li');
    li.className = 'muted';
    li.textContent = 'no products yet';
    list.append(li);
    return;
  }
  for (const p of page.items) {
    const li = document.createElement('li');
    li.textContent = `${p.name} `;
    const price = document.createElement('span');
    price.className = 'price';
    price.textContent = yen(p.price);
    li.append(price);
    list.append(li);
  }
}

document.getElementById('search').addEventListener('submit', (e) => {
  e.preventDefault();
  load(new FormData(e.target).get('q'));
});
load('');
