"""Two people acting on one report at the same moment (PostgreSQL: real row locks).

Each thread has its own database connection; a barrier starts them together, and the first to
lock the report holds the lock a little longer so that the other really waits on it. Without
the lock and the version check both would succeed and one save would silently overwrite the
other.
"""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import pytest
from django.db import connection

from reports import services
from reports.models import Report, ReportEvent
from reports.signals import ensure_periods
from tasks.progress import TaskState
from tests.builders import link_indicator, make_department, make_indicator, make_plan, make_task

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: SQLite serialises all writers, there is no race to test",
    ),
    # Threads see only committed data; the seed data loaded for the session is flushed after.
    pytest.mark.django_db(transaction=True),
]

HOLD = 0.3  # seconds the first thread keeps the report locked


@pytest.fixture
def report(django_user_model):
    """A fresh 2019 half-year report with one lead task and one indicator."""
    plan = make_plan()
    department = make_department(plan.jurisdiction, name="民政局")
    make_task(plan, lead=[department])
    link_indicator(make_indicator(plan, milestones={2018: "300", 2019: "400"}), department)
    ensure_periods(plan)
    period = plan.periods.get(kind="half", year=2019)
    opener = django_user_model.objects.create_user("opener")
    return services.report_open(period=period, department=department, by=opener)


@pytest.fixture
def users(django_user_model):
    return [
        django_user_model.objects.create_user(name, first_name=full)
        for name, full in (("amy", "甲联络员"), ("bo", "乙联络员"))
    ]


@pytest.fixture
def slow_lock_holder(monkeypatch):
    """Make whoever holds the report's lock keep it for HOLD seconds (both steps read entries
    right after locking the report)."""

    def hold(real):
        def slow(*args, **kwargs):
            result = real(*args, **kwargs)
            time.sleep(HOLD)
            return result

        return slow

    monkeypatch.setattr(services, "_editable_items", hold(services._editable_items))
    monkeypatch.setattr(services, "check_for_submission", hold(services.check_for_submission))


def run_together(*calls):
    """Run each call in its own thread (and connection), started together; results in order."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)
    took: list[float] = [0.0] * len(calls)

    def run(i, call):
        start = time.monotonic()
        try:
            barrier.wait(timeout=10)
            start = time.monotonic()
            results[i] = call()
        except Exception as error:  # the outcome under test, returned to the main thread
            results[i] = error
        finally:
            took[i] = time.monotonic() - start
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    return results, took


def save(report, user, version, text, value):
    item = report.items.get()
    entry = report.values.get()
    return lambda: services.report_save_draft(
        report=report,
        by=user,
        version=version,
        items={item.pk: {"progress": text, "state": TaskState.IN_PROGRESS}},
        values={entry.pk: {"value": Decimal(value)}},
    )


def submit(report, user, version):
    return lambda: services.report_submit(report=report, by=user, version=version)


def test_two_simultaneous_saves_one_wins_the_other_is_told(report, users, slow_lock_holder):
    version = report.version
    amy, bo = users

    results, took = run_together(
        save(report, amy, version, "甲的进展", 500), save(report, bo, version, "乙的进展", 520)
    )

    winners = [i for i, r in enumerate(results) if isinstance(r, Report)]
    losers = [i for i, r in enumerate(results) if isinstance(r, services.StaleReport)]
    assert len(winners) == 1 and len(losers) == 1, results
    winner, loser = winners[0], losers[0]
    assert took[loser] >= HOLD / 2  # it waited for the winner's lock, then saw its version
    text, value = [("甲的进展", Decimal(500)), ("乙的进展", Decimal(520))][winner]

    report = Report.objects.get(pk=report.pk)
    assert report.version == version + 1
    assert report.updated_by == users[winner]
    assert report.items.get().progress == text
    assert report.values.get().value == value
    # The loser was told who saved first; nothing of theirs was written behind their back.
    assert isinstance(results[loser].report, Report)
    assert results[loser].report.version == version + 1
    # Only the winner's save was written and recorded.
    saves = report.events.filter(kind=ReportEvent.Kind.SAVED, version__gt=version)
    assert [(e.by, e.snapshot["items"][0]["progress"]) for e in saves] == [(users[winner], text)]


def test_two_simultaneous_submits_one_is_refused(report, users, slow_lock_holder):
    amy, bo = users
    report = save(report, amy, report.version, "已完成前期工作", 500)()
    version = report.version

    results, _took = run_together(submit(report, amy, version), submit(report, bo, version))

    refused = [r for r in results if isinstance(r, services.ReportError)]
    accepted = [r for r in results if isinstance(r, Report)]
    assert len(accepted) == 1 and len(refused) == 1, results
    report = Report.objects.get(pk=report.pk)
    assert report.state == Report.State.SUBMITTED
    assert report.version == version + 1
    assert report.events.filter(kind=ReportEvent.Kind.SUBMITTED).count() == 1


def test_a_save_racing_a_submit_never_changes_what_was_submitted(report, users, slow_lock_holder):
    amy, bo = users
    report = save(report, amy, report.version, "报送的内容", 500)()
    version = report.version

    results, _took = run_together(
        submit(report, amy, version), save(report, bo, version, "晚到的修改", 1)
    )

    assert sum(isinstance(r, Report) for r in results) == 1, results
    assert sum(isinstance(r, services.StaleReport) for r in results) == 1, results
    report = Report.objects.get(pk=report.pk)
    if isinstance(results[0], Report):  # the submit won: the report is exactly as submitted
        assert report.state == Report.State.SUBMITTED
        assert report.items.get().progress == "报送的内容"
        submitted = report.events.get(kind=ReportEvent.Kind.SUBMITTED)
        assert submitted.snapshot["items"][0]["progress"] == "报送的内容"
    else:  # the save won: still a draft, with the later text
        assert report.state == Report.State.DRAFT
        assert report.items.get().progress == "晚到的修改"
    assert report.version == version + 1


def test_the_loser_is_told_who_saved_first(report, users, slow_lock_holder):
    amy, bo = users
    results, _took = run_together(
        save(report, amy, report.version, "甲", 1), save(report, bo, report.version, "乙", 2)
    )
    (stale,) = [r for r in results if isinstance(r, services.StaleReport)]
    (winner,) = [r for r in results if isinstance(r, Report)]
    assert winner.updated_by.get_full_name() in stale.message
