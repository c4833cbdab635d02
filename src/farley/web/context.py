from django.http import HttpRequest

from farley.core.visibility import is_administrator


def navigation(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    return {"is_admin": bool(user and user.is_authenticated and is_administrator(user))}
