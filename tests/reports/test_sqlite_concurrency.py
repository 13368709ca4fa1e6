"""Eight liaisons save and submit at the same moment on a real SQLite file: nobody is refused.

SQLite lets one writer in at a time. With Django's default deferred transactions a reader that
turns writer fails at once with "database is locked"; config/settings.py opens every
transaction IMMEDIATE (take the write lock first) and waits up to 20 s for it. This test runs
that set-up for real, whatever database the suite itself uses: a subprocess builds a SQLite file
of its own (migrated in memory, then copied with the backup API), and another subprocess serves
eight liaisons of eight departments from threads, each with its own connection and browser
session, started together by a barrier, each saving a draft and then submitting through the
report form.

Run by hand: python -m tests.reports.test_sqlite_concurrency build|run FILE
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LIAISONS = 8
PERIOD = ("half", 2019)


def _manage_env(database_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(DATABASE_URL=database_url, DJANGO_SETTINGS_MODULE="config.settings")
    env.pop("PYTEST_CURRENT_TEST", None)
    return env


def _run_step(step: str, database: Path, database_url: str) -> dict:
    result = subprocess.run(  # noqa: S603 - our own interpreter and module, fixed arguments
        [sys.executable, "-m", "tests.reports.test_sqlite_concurrency", step, str(database)],
        cwd=ROOT,
        env=_manage_env(database_url),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_eight_liaisons_submitting_at_once_are_all_stored(tmp_path):
    database = tmp_path / "liaisons.sqlite3"
    built = _run_step("build", database, "sqlite://:memory:")
    assert built["reports"] == LIAISONS

    outcome = _run_step("run", database, f"sqlite:///{database}")

    assert outcome["settings"] == {"transaction_mode": "IMMEDIATE", "timeout": 20}
    assert outcome["errors"] == []
    assert not any("locked" in text for text in outcome["responses"])
    assert outcome["submitted"] == LIAISONS
    assert outcome["submitted_events"] == LIAISONS
    assert outcome["values"] == [str(10 + i) for i in range(LIAISONS)]
    # They really overlapped: all eight were under way before the first one finished.
    assert outcome["overlap"], outcome["timings"]


# -- The subprocess side -----------------------------------------------------------------------


def build(database: Path) -> dict:
    """A plan with eight departments, each leading a task and owning an indicator, its liaison
    and its opened report; migrated in memory (fast) and copied to `database`."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.db import connection

    from plans.models import Liaison
    from plans.roles import Role
    from reports import services
    from tests.builders import (
        link_indicator,
        make_department,
        make_indicator,
        make_jurisdiction,
        make_plan,
        make_task,
    )

    call_command("migrate", verbosity=0)
    group, _ = Group.objects.get_or_create(name=Role.LIAISON.value)
    jurisdiction = make_jurisdiction("并发县")
    plan = make_plan(jurisdiction, code="concurrency")
    period = plan.periods.get(kind=PERIOD[0], year=PERIOD[1])
    User = get_user_model()
    for i in range(LIAISONS):
        department = make_department(jurisdiction, name=f"部门{i}")
        make_task(plan, lead=[department])
        link_indicator(make_indicator(plan, milestones={2019: "100"}), department)
        user = User.objects.create_user(f"liaison{i}", first_name=f"联络员{i}")
        user.groups.add(group)
        Liaison.objects.create(user=user, department=department)
        services.report_open(period=period, department=department, by=user)
    database.unlink(missing_ok=True)
    connection.ensure_connection()
    target = sqlite3.connect(database)
    connection.connection.backup(target)
    target.close()
    return {"reports": LIAISONS}


def _form_data(report, value: int) -> dict[str, str]:
    """The report form as a liaison sends it, filled in with reasons for any delay."""
    from reports import services
    from reports.forms import ReportForm

    items, values = services._editable_items(report)
    form = ReportForm(report=report, items=items, values=values)
    data = {"version": str(report.version), "action": "save"}
    for entry_form in form.entry_forms():
        for field in entry_form:
            current = field.value()
            data[field.html_name] = "" if current is None else str(current)
    for key in list(data):
        name = key.rsplit("-", 1)[-1]
        filled = {
            "state": "in_progress",
            "progress": "已完成上半年工作。",
            "value": str(value),
            "delay_reason": "资金未及时到位。",
            "measures": "已协调加快拨付。",
            "new_expected_date": "2019-12-31",
        }
        if key.startswith(("item-", "value-")) and name in filled:
            data[key] = filled[name]
    return data


def _text(value) -> str:
    return "None" if value is None else format(value.normalize(), "f")


class _Errors(logging.Handler):
    """Errors the views log (a failed save is answered with a message, not an exception)."""

    def __init__(self, errors: list[str]):
        super().__init__(level=logging.ERROR)
        self.errors = errors

    def emit(self, record: logging.LogRecord) -> None:
        cause = record.exc_info[1] if record.exc_info else None
        self.errors.append(f"{record.getMessage()}: {cause!r}")


def run(database: Path) -> dict:
    from django.db import connection, connections
    from django.test import Client
    from django.urls import reverse

    from plans.models import Liaison
    from reports.models import Report, ReportEvent

    reports = list(
        Report.objects.filter(period__plan__code="concurrency")
        .select_related("period", "department")
        .order_by("department__name")
    )
    users = {x.department_id: x.user for x in Liaison.objects.select_related("user")}
    barrier = threading.Barrier(len(reports))
    errors: list[str] = []
    responses: list[str] = []
    timings: list[tuple[float, float]] = [(0.0, 0.0)] * len(reports)
    logging.getLogger().addHandler(_Errors(errors))
    logging.getLogger().handlers = [
        h for h in logging.getLogger().handlers if isinstance(h, _Errors)
    ]

    def liaison(i: int, report: Report) -> None:
        try:
            client = Client()
            client.force_login(users[report.department_id])
            data = _form_data(report, 10 + i)
            url = reverse("report-edit", args=[report.pk])
            barrier.wait(timeout=60)
            start = time.monotonic()
            saved = client.post(url, data)
            submitted = client.post(
                url, {**data, "version": str(report.version + 1), "action": "submit"}
            )
            timings[i] = (start, time.monotonic())
            for response in (saved, submitted):
                responses.append(f"{response.status_code} {response.content[:200]!r}")
                if response.status_code != 302:
                    errors.append(f"liaison{i}: HTTP {response.status_code}")
        except Exception as error:  # reported back to the test, which asserts there are none
            errors.append(f"liaison{i}: {type(error).__name__}: {error}")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=liaison, args=(i, r)) for i, r in enumerate(reports)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    options = connection.settings_dict["OPTIONS"]
    stored = list(
        Report.objects.filter(period__plan__code="concurrency").order_by("department__name")
    )
    first_end = min(end for _, end in timings)
    return {
        "settings": {k: options.get(k) for k in ("transaction_mode", "timeout")},
        "errors": errors,
        "responses": responses,
        "submitted": sum(r.state == Report.State.SUBMITTED for r in stored),
        "submitted_events": ReportEvent.objects.filter(
            report__in=stored, kind=ReportEvent.Kind.SUBMITTED
        ).count(),
        "values": [_text(r.values.get().value) for r in stored],
        "overlap": all(start < first_end for start, _ in timings),
        "timings": timings,
    }


def main(argv: list[str]) -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("AXES_ENABLED", "false")
    django.setup()
    step, database = argv[1], Path(argv[2])
    result = build(database) if step == "build" else run(database)
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main(sys.argv)
