"""API: quotes."""

from ninja import Router

router = Router()
