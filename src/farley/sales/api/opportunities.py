"""API: opportunities."""

from ninja import Router

router = Router()
