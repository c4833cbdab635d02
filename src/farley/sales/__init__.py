"""Sales automation: leads, pipelines and opportunities, products and price lists, quotes,
orders, forecasts and sales analyses."""
