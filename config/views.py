"""Views that belong to the site rather than to one app."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache


@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """Answer "ok" without touching the database or the session: for load balancers, and the
    load benchmark's baseline of what the server costs before any page work."""
    return HttpResponse("ok", content_type="text/plain; charset=utf-8")
