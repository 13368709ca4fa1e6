"""The client's address behind a reverse proxy, for login throttling and the login records."""

from __future__ import annotations

from django.conf import settings


def client_ip(remote_addr: str, forwarded_for: str, trusted_proxies: list[str]) -> str:
    """The address that reached our own proxy: the right-most X-Forwarded-For entry not a proxy.

    The header is believed only when the request comes from a trusted proxy (nginx on this
    host); entries further left were written by the client and can be anything.
    """
    if remote_addr not in trusted_proxies or not forwarded_for.strip():
        return remote_addr
    for address in reversed([part.strip() for part in forwarded_for.split(",")]):
        if address and address not in trusted_proxies:
            return address
    return remote_addr


def axes_client_ip(request) -> str:
    """django-axes' AXES_CLIENT_IP_CALLABLE."""
    return client_ip(
        request.META.get("REMOTE_ADDR", ""),
        request.META.get("HTTP_X_FORWARDED_FOR", ""),
        settings.TRUSTED_PROXIES,
    )
