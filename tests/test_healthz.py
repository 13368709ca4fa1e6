"""/healthz/: the load balancer's probe and the load benchmark's baseline."""

from __future__ import annotations

import pytest


@pytest.mark.django_db
def test_healthz_answers_ok_without_login_or_any_query(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz/")

    assert response.status_code == 200
    assert response.content == b"ok"
    assert response["Content-Type"].startswith("text/plain")
    assert "no-cache" in response["Cache-Control"]  # a probe must reach the app, not a cache
