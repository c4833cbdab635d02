"""Documents: files attached to customer records (accounts, contacts and later entities)."""
