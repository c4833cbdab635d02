"""Registers the sales entities with core (history, search, custom fields, permissions,
sharing, trash and the security suite): leads, opportunities, quotes, orders."""
