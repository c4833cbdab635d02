"""Reads of the sales app, one module per area; every query of customer data starts from
``farley.core.visibility.visible_records``."""
