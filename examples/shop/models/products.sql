MODEL (
  name shop.products,
  kind SEED (path '../seeds/products.csv'),
  columns (product_id INTEGER, name TEXT, unit_price DECIMAL(10, 2)),
  grain product_id
);
