MODEL (
  name shop.customers,
  kind SEED (path '../seeds/customers.csv'),
  columns (customer_id INTEGER, name TEXT, country TEXT, updated_at TIMESTAMP),
  grain customer_id,
  description 'Customers, maintained by hand in a CSV file'
);
