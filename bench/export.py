"""Benchmark the formatted Excel report against a plain openpyxl dump of the same cells.

    .venv/bin/python bench/export.py [--plans 1] [--runs 3] [--database /tmp/bench-export.sqlite3]

Builds a SQLite file of its own (never db.sqlite3): migrate, then generate_demo_scale's
province-size data, 5,000 tasks and 2,000 departments. By default all 5,000 tasks go into ONE
plan, so one download covers every task (the worst case for a single workbook); `--plans 100`
gives the progress issue's exact layout (100 plans of about 50 tasks) and exports the largest
plan. Every department then submits a report for the period (2020-07 by default) with progress,
problems and next steps on each of its tasks, so the 完成情况 columns are full.

Measured, with peak memory from tracemalloc in a run of its own:
- gather: reports.export.plan_workbook (the queries and the dashboard's assessment), once;
- formatted: reports.excel.build_report + save (styles, print setup, checks on every text);
- plain: openpyxl write-only, the same cell values appended as they are, saved;
  these two alternate for --runs runs each (medians), so a busy machine slows both alike;
- download: the whole view through Django's test Client, as the office user, once.
Target: formatted within 2x of plain in time and in peak memory. The exit code is always 0.
"""

from __future__ import annotations

import argparse
import gc
import io
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from django_setup import set_up_django

ROOT = Path(__file__).resolve().parent.parent
MAX_RATIO = 2.0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--plans", type=int, default=1, help="plans sharing the 5,000 tasks")
    parser.add_argument("--tasks", type=int, default=5000, help="tasks in all, sub-items too")
    parser.add_argument("--departments", type=int, default=2000, help="departments in all")
    parser.add_argument("--indicators", type=int, default=100, help="indicators per plan")
    parser.add_argument("--period", default="2020-07", help="the report exported")
    parser.add_argument("--runs", type=int, default=7, help="timed runs of each writer")
    parser.add_argument("--seed", type=int, default=2026, help="seed for generate_demo_scale")
    parser.add_argument(
        "--database",
        type=Path,
        default=Path(tempfile.gettempdir()) / "bench-export.sqlite3",
        help="SQLite file, recreated",
    )
    parser.add_argument("--keep", type=Path, help="also write the formatted workbook here")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="measure the database an earlier run left, without generating it again",
    )
    return parser.parse_args()


def generate(args: argparse.Namespace):
    """The province-size data, the reporting periods, and every department's submitted report."""
    import datetime as dt

    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    from plans.models import Plan
    from reports.models import Report, ReportItem
    from reports.signals import ensure_periods
    from tasks.models import Task, TaskDepartment

    call_command("migrate", verbosity=0)
    call_command("load_demo", stdout=io.StringIO())
    call_command(
        "generate_demo_scale",
        plans=args.plans,
        tasks=args.tasks,
        departments=args.departments,
        indicators=args.indicators,
        seed=args.seed,
    )
    for plan in Plan.objects.filter(code__startswith="scale-"):
        ensure_periods(plan)  # bulk_create skipped the signal that adds a plan's periods
    plan, period = largest_plan(args)
    office = get_user_model().objects.get(username="office")
    at = timezone.make_aware(dt.datetime(period.deadline.year, 7, 20, 10))
    leaves = Task.objects.filter(plan=plan).leaves()
    links = list(
        TaskDepartment.objects.filter(task__in=leaves).values_list(
            "task_id", "department_id", "role"
        )
    )
    with transaction.atomic():
        reports = Report.objects.bulk_create(
            Report(
                period=period,
                department_id=department,
                state=Report.State.SUBMITTED,
                first_submitted_at=at,
                submitted_at=at,
                submitted_by=office,
            )
            for department in sorted({d for _, d, _ in links})
        )
        by_department = {r.department_id: r for r in reports}
        seen = set()
        items = []
        for task, department, role in links:
            if (task, department) in seen:
                continue
            seen.add((task, department))
            items.append(
                ReportItem(
                    report=by_department[department],
                    task_id=task,
                    role=role,
                    state="in_progress" if role == "lead" else "",
                    progress="已完成选址和立项,完成投资" + "约一千二百万元,工程形象进度过半;" * 4,
                    problems="资金到位较晚,用地审批周期较长。",
                    next_steps="加快施工进度,确保年底前完成主体工程并投入使用。",
                )
            )
        ReportItem.objects.bulk_create(items, batch_size=2000)
    print(
        f"data: {plan.code}, {leaves.count()} reportable of {plan.tasks.count()} tasks, "
        f"{plan.indicators.count()} indicators, {len(reports)} reports, {len(items)} items"
    )
    return plan, period


def largest_plan(args: argparse.Namespace):
    from plans.models import Plan
    from reports.export import find_period

    plans = list(Plan.objects.filter(code__startswith="scale-"))
    plan = max(plans, key=lambda p: (p.tasks.count(), p.code))
    return plan, find_period(plan, args.period)


def plain_rows(data) -> list[list[list]]:
    """The workbook's cells as plain values per sheet, as a straightforward dump would write."""
    from decimal import Decimal

    from reports.excel import excel_number

    def number(v):  # Decimal to int or float; text, dates and None as they are
        return excel_number(v) if isinstance(v, Decimal) else v

    indicators = [
        [
            i.section,
            i.name,
            i.unit,
            number(i.year_milestone),
            number(i.final_target),
            number(i.actual),
            i.actual_on,
            number(i.share_of_milestone),
            number(i.share_of_final),
            i.status_label,
            i.projection,
            i.clause,
            i.conflict,
        ]
        for i in data.indicators
    ]
    tasks = [[*t.table, t.progress, t.problems, t.next_steps, t.status_label] for t in data.tasks]
    submissions = [
        [
            s.department,
            s.liaisons,
            s.phones,
            s.state_label,
            s.first_submitted_at.replace(tzinfo=None) if s.first_submitted_at else None,
            s.submitted_at.replace(tzinfo=None) if s.submitted_at else None,
            s.timeliness_label,
        ]
        for s in data.submissions
    ]
    return [indicators, tasks, submissions]


def formatted(data) -> int:
    from reports.excel import build_report

    buffer = io.BytesIO()
    build_report(data).save(buffer)
    return len(buffer.getvalue())


def plain(sheets: list[list[list]]) -> int:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    for name, rows in zip(("指标完成情况", "任务进展", "报送情况"), sheets, strict=True):
        ws = workbook.create_sheet(name)
        for row in rows:
            ws.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return len(buffer.getvalue())


def timed(function, *args) -> tuple[float, object]:
    started = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - started, result


def alternated(first, second, runs: int) -> tuple[float, float]:
    """Medians of `runs` runs of each, taken in turns, so a busy machine slows both alike."""
    a, b = [], []
    for _ in range(runs):
        # Each run starts from a collected heap: the cyclic garbage the gathering left (model
        # instances with their caches) would otherwise bill whichever run comes first.
        gc.collect()
        a.append(timed(first)[0])
        gc.collect()
        b.append(timed(second)[0])
    return statistics.median(a), statistics.median(b)


def peak_memory(function, *args) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        function(*args)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main() -> int:
    args = parse_args()
    reuse = args.reuse and args.database.exists()
    set_up_django(args.database, fresh=not reuse)
    started = time.perf_counter()
    plan, period = largest_plan(args) if reuse else generate(args)
    print(f"set-up: {time.perf_counter() - started:.1f} s (database {args.database})")

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from reports.export import plan_workbook

    with CaptureQueriesContext(connection) as captured:
        gather_time, data = timed(plan_workbook, period)
    queries = len(captured.captured_queries)  # read now: a request resets the query log
    gather_peak = peak_memory(plan_workbook, period)
    sheets = plain_rows(data)
    cells = sum(len(row) for rows in sheets for row in rows)

    formatted_size, plain_size = formatted(data), plain(sheets)  # warm-up: imports, catalogues
    formatted_time, plain_time = alternated(
        lambda: formatted(data), lambda: plain(sheets), args.runs
    )
    formatted_peak = peak_memory(formatted, data)
    plain_peak = peak_memory(plain, sheets)

    from django.contrib.auth import get_user_model

    client = Client()
    client.force_login(get_user_model().objects.get(username="office"))
    url = reverse("report-export", args=[plan.code, period.slug])

    def download():
        response = client.get(url)
        assert response.status_code == 200, response.status_code
        return len(response.getvalue())

    download_time, download_size = timed(download)
    if args.keep:
        from reports.excel import build_report

        build_report(data).save(args.keep)

    print()
    print(
        f"{plan.code} {period.slug}: {len(data.indicators)} indicators, {len(data.tasks)} tasks, "
        f"{len(data.submissions)} departments; {cells:,} cells"
    )
    print(f"{'step':<28}{'median':>10}{'peak memory':>14}{'size':>12}")

    def line(name, seconds, peak=None, size=None):
        peak_text = f"{peak / 2**20:.1f} MiB" if peak is not None else "—"
        size_text = f"{size / 1024:.0f} KiB" if size is not None else "—"
        print(f"{name:<28}{seconds * 1000:>8.0f} ms{peak_text:>14}{size_text:>12}")

    line(f"gather ({queries} queries)", gather_time, gather_peak)
    line("formatted build + save", formatted_time, formatted_peak, formatted_size)
    line("plain write-only dump", plain_time, plain_peak, plain_size)
    line("download (whole view)", download_time, None, download_size)
    print()
    time_ratio = formatted_time / plain_time
    memory_ratio = formatted_peak / plain_peak
    for name, ratio in (("time", time_ratio), ("peak memory", memory_ratio)):
        verdict = "PASS" if ratio <= MAX_RATIO else "FAIL"
        print(f"{verdict}  formatted within {MAX_RATIO:g}x of plain ({name}): {ratio:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
