"""The Django admin covers every model, in Chinese, with working lists, filters and search."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

pytestmark = pytest.mark.django_db

APPS = ["plans", "indicators", "tasks", "reports"]


def inline_models() -> set:
    """Models edited only inside their parent's admin page (a report's items and values)."""
    return {
        inline.model
        for model_admin in admin.site._registry.values()
        for inline in getattr(model_admin, "inlines", [])
    }


def domain_models():
    return [
        m
        for label in APPS
        for m in apps.get_app_config(label).get_models()
        if m in admin.site._registry or m not in inline_models()
    ]


def test_every_domain_model_is_in_the_admin():
    missing = [m.__name__ for m in domain_models() if m not in admin.site._registry]
    # Django-simple-history's shadow tables are reached through their model's history page.
    assert [name for name in missing if not name.startswith("Historical")] == []


@pytest.mark.parametrize(
    "model",
    [m for m in domain_models() if not m.__name__.startswith("Historical")],
    ids=lambda m: m.__name__,
)
def test_admin_list_search_and_first_object_open(admin_client, model):
    opts = model._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    response = admin_client.get(url, {"q": "民政"})
    assert response.status_code == 200
    assert str(opts.verbose_name_plural) in response.content.decode()
    first = model.objects.first()
    if first is not None:
        change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[first.pk])
        assert admin_client.get(change).status_code == 200


def test_admin_names_are_chinese(admin_client):
    html = admin_client.get(reverse("admin:index")).content.decode()
    for name in ("实施方案", "指标", "年度目标", "任务", "部门", "联络员"):
        assert name in html
