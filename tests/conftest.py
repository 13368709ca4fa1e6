"""Shared test set-up: the four seed plans loaded once per session, and a cast of users."""

from __future__ import annotations

import os

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from django.utils import translation

# Tests that need a program outside Python skip with a reason where it is absent, so that
# `make test` works on any machine; CI installs the programs and sets these variables, and there
# such a skip is a failure: a missing browser must not pass silently.
REQUIRED_PROGRAMS = {"browser": "REQUIRE_BROWSER", "libreoffice": "REQUIRE_LIBREOFFICE"}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not report.skipped:
        return
    for marker, variable in REQUIRED_PROGRAMS.items():
        if item.get_closest_marker(marker) and os.environ.get(variable):
            report.outcome = "failed"
            report.longrepr = f"{variable} is set but the test was skipped: {report.longrepr}"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Load the plan fixtures once; every database test sees them (and rolls back its own work).

    SEED_PLANS=liucheng,panjin loads only those plans, to iterate on one fixture quickly;
    SEED_PLANS=none loads none.
    """
    only = [code for code in os.environ.get("SEED_PLANS", "").split(",") if code]
    with django_db_blocker.unblock():
        if only != ["none"]:
            call_command("load_plans", *only, verbosity=0)
        call_command("load_demo", verbosity=0)


@pytest.fixture(autouse=True)
def _fresh_start():
    """Every test starts in Chinese with an empty cache.

    Cached summaries are keyed on data a test rolls back, and a request in English leaves its
    language active in the thread for whatever the next test does outside a request.
    """
    cache.clear()
    translation.activate(settings.LANGUAGE_CODE)
    yield
    cache.clear()


@pytest.fixture
def office_user(django_user_model):
    return django_user_model.objects.get(username="office")


@pytest.fixture
def leader_user(django_user_model):
    return django_user_model.objects.get(username="leader")


@pytest.fixture
def liaison_user(django_user_model):
    """The liaison of 柳城县民政局."""
    return django_user_model.objects.get(username="liaison")


@pytest.fixture
def outsider_user(django_user_model):
    """A logged-in account with no role at all."""
    return django_user_model.objects.create_user("outsider", password="outsider-pass-2026")


@pytest.fixture
def office_client(client, office_user):
    client.force_login(office_user)
    return client
