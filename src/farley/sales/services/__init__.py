"""Writes of the sales app, one module per area (leads, opportunities, catalogue, quotes,
orders, targets); each function is one use case in one transaction."""
