"""`manage.py backup` and `manage.py restore`: a full round trip, and archives refused unchanged.

The round trips run with transaction=True: a backup reads committed data (pg_dump from another
connection; SQLite's backup API cannot copy a database its own connection is writing). Such
tests flush the database afterwards, so they build what they need and load the Liucheng plan
themselves if an earlier transactional test flushed the session's seed data.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
import sqlite3
import tarfile
from decimal import Decimal
from pathlib import Path

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from indicators.models import Indicator, Measurement
from plans import backup
from plans.models import Department, Plan
from reports import services
from reports.models import Evidence, Report, ReportingPeriod
from tasks.models import Deliverable, TaskUpdate
from tasks.progress import TaskState
from tests.builders import make_plan

needs_sqlite = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="the suite runs on PostgreSQL: see the PostgreSQL test"
)
needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql"
    or not (shutil.which("pg_dump") and shutil.which("pg_restore")),
    reason="needs the suite on PostgreSQL (DATABASE_URL=postgres://...) and pg_dump / pg_restore"
    " (apt-get install postgresql-client)",
)


# -- Helpers -----------------------------------------------------------------------------------


def all_rows() -> dict[str, list[tuple]]:
    """Every row of every table (history, axes logs and many-to-many tables included)."""
    rows = {}
    for model in apps.get_models(include_auto_created=True):
        names = [f.attname for f in model._meta.concrete_fields]
        rows[model._meta.db_table] = list(model._default_manager.order_by("pk").values_list(*names))
    return rows


def media_of(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    return settings.MEDIA_ROOT


def with_seed_plan() -> None:
    """The Liucheng plan and the demo accounts, loaded again if a transactional test flushed
    them."""
    if not Plan.objects.filter(code="liucheng").exists():
        call_command("load_plans", "liucheng", verbosity=0)
    if not get_user_model().objects.filter(username="liaison").exists():
        call_command("load_demo", verbosity=0)


def fill(report: Report, by) -> Report:
    reason = {"delay_reason": "资金未及时到位。", "measures": "已协调。"}
    items = {
        item.pk: {
            "state": TaskState.IN_PROGRESS,
            "progress": f"进展{item.pk}",
            "new_expected_date": dt.date(2019, 12, 31),
            **reason,
        }
        for item in report.items.all()
    }
    values = {
        value.pk: {
            "value": Decimal(1 if value.indicator.kind == Indicator.Kind.DELIVERABLE else 12.5),
            "new_expected_date": dt.date(2019, 12, 31),
            **reason,
        }
        for value in report.values.select_related("indicator")
    }
    return services.report_save_draft(
        report=report, by=by, version=report.version, items=items, values=values
    )


def a_year_of_work() -> Report:
    """A half-year report through its whole cycle, with an evidence file, and the history,
    measurements, task updates and login records that come with it."""
    User = get_user_model()
    liaison, office = User.objects.get(username="liaison"), User.objects.get(username="office")
    period = ReportingPeriod.objects.get(plan__code="liucheng", kind="half", year=2019)
    department = Department.objects.get(jurisdiction__name="柳城县", name="县民政局")
    services.period_update(period=period, by=office, deadline=dt.date(2019, 7, 25))
    report = fill(services.report_open(period=period, department=department, by=liaison), liaison)
    item = report.items.order_by("pk").first()
    evidence = Evidence(item=item, name="验收报告.pdf", size=9, content_type="application/pdf")
    evidence.file.save("验收报告.pdf", ContentFile(b"%PDF-1.4\n"), save=False)
    evidence.uploaded_by = liaison
    evidence.save()
    report = services.report_submit(report=report, by=liaison, version=report.version)
    report = services.report_return_item(report=report, by=office, comment="请补充", item=item)
    report = fill(report, liaison)
    report = services.report_submit(report=report, by=liaison, version=report.version)
    report = services.report_accept(report=report, by=office)
    services.report_comment(report=report, by=User.objects.get(username="leader"), comment="好")
    deliverable = Deliverable.objects.filter(task__plan__code="liucheng").first()
    if deliverable is not None:
        deliverable.completed_on = dt.date(2019, 5, 1)
        deliverable.save()
    AccessLog.objects.create(username="liaison", ip_address="10.0.0.8", path_info="/accounts/")
    AccessAttempt.objects.create(
        username="office", ip_address="10.0.0.9", failures_since_start=2, get_data="", post_data=""
    )
    AccessFailureLog.objects.create(username="office", ip_address="10.0.0.9", locked_out=False)
    assert Measurement.objects.filter(report_values__report=report).exists()
    assert Measurement.history.exists() and TaskUpdate.objects.exists()
    return report


def spoil(report: Report, media: Path) -> None:
    """What a bad day does after the backup: edits, deletions, a new file, a new account."""
    report.items.update(progress="被误改")
    Evidence.objects.filter(item__report=report).delete()
    shutil.rmtree(media / "evidence")
    (media / "stray.txt").write_bytes(b"not in the backup")
    Measurement.objects.all().delete()
    TaskUpdate.objects.all().delete()
    Report.objects.filter(pk=report.pk).update(state=Report.State.DRAFT)
    report.events.order_by("-pk").first().delete()
    AccessLog.objects.all().delete()
    Department.objects.filter(pk=report.department_id).update(name="改名局")
    get_user_model().objects.create_user("intruder", password="x-2026-intruder")


def round_trip(tmp_path: Path, media: Path) -> None:
    with_seed_plan()
    report = a_year_of_work()
    before, files = all_rows(), media_of(media)
    assert files and any(before[t] for t in before if t.startswith("reports_historical"))
    archive = tmp_path / "site.tar.gz"
    call_command("backup", "-o", str(archive), stdout=io.StringIO())

    spoil(report, media)
    assert all_rows() != before and media_of(media) != files
    call_command("restore", str(archive), "--yes", stdout=io.StringIO())

    after = all_rows()
    assert [t for t in before if after[t] != before[t]] == []
    assert media_of(media) == files


# -- Round trips -------------------------------------------------------------------------------


@needs_sqlite
@pytest.mark.django_db(transaction=True)
def test_sqlite_round_trip_restores_every_row_and_every_file(tmp_path, media):
    round_trip(tmp_path, media)


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_postgresql_round_trip_restores_every_row_and_every_file(tmp_path, media):
    round_trip(tmp_path, media)


@needs_sqlite
@pytest.mark.django_db(transaction=True)
def test_the_manifest_describes_the_backup(tmp_path, media):
    make_plan()
    (media / "evidence").mkdir()
    (media / "evidence" / "a.pdf").write_bytes(b"%PDF-1.4\n")
    archive = tmp_path / "site.tar.gz"

    call_command("backup", "-o", str(archive), stdout=io.StringIO())

    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
        names = tar.getnames()
    assert manifest["engine"] == "sqlite"
    assert manifest["counts"]["plans_plan"] == Plan.objects.count()
    assert manifest["counts"]["auth_user"] == get_user_model().objects.count()
    assert "reports.0001_initial" in manifest["migrations"]
    assert set(names) == {"manifest.json", "database.sqlite3", "media/evidence/a.pdf"}
    assert manifest["files"]["media/evidence/a.pdf"]["size"] == 9
    assert archive.stat().st_mode & 0o077 == 0  # password hashes: readable by its owner only


@pytest.mark.django_db
def test_backup_refuses_to_run_inside_a_transaction(tmp_path):
    with pytest.raises(CommandError, match="inside a transaction"):
        call_command("backup", "-o", str(tmp_path / "x.tar.gz"))
    assert not (tmp_path / "x.tar.gz").exists()


# -- Refused archives --------------------------------------------------------------------------


OTHER_ENGINE = "postgresql" if connection.vendor == "sqlite" else "sqlite"


def current_migrations() -> list[str]:
    return sorted(f"{a}.{n}" for a, n in MigrationLoader(None).disk_migrations)


def an_archive(folder: Path, *, engine: str = "", migrations: list[str] | None = None) -> Path:
    """A well-formed archive for this site's engine (or `engine`), holding a one-table SQLite
    database: enough to be checked, never restored."""
    database = folder / "db-source"
    db = sqlite3.connect(database)
    db.execute("CREATE TABLE t (x)")
    db.commit()
    db.close()
    media = folder / "media-source"
    (media / "evidence").mkdir(parents=True)
    (media / "evidence" / "a.pdf").write_bytes(b"%PDF-1.4\n")
    manifest = backup.Manifest(
        engine=engine or connection.vendor,
        created_at="2026-01-01T00:00:00+00:00",
        app_version="0.1.0",
        migrations=current_migrations() if migrations is None else migrations,
        counts={"t": 0},
        files={},
    )
    archive = folder / "good.tar.gz"
    backup.write_archive(archive, database=database, manifest=manifest, media_root=media)
    return archive


def tar_with(folder: Path, *members: tuple[tarfile.TarInfo, bytes | None]) -> Path:
    """A tar.gz with a valid manifest followed by the given members."""
    path = folder / "evil.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        with tarfile.open(an_archive(folder)) as good:
            for member in good.getmembers():
                tar.addfile(member, good.extractfile(member))
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def file_member(name: str, data: bytes = b"root:x:0:0") -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def link_member(name: str, target: str, kind=tarfile.SYMTYPE) -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info, None


def bad_archives(folder: Path) -> dict[str, tuple[Path, str]]:
    """name → (archive, words the refusal must contain)."""
    folder.mkdir()
    text = folder / "notes.tar.gz"
    text.write_text("这不是备份文件")
    good = an_archive(evil_dir(folder, "good"))
    truncated = folder / "truncated.tar.gz"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    no_manifest = folder / "plain.tar.gz"
    with tarfile.open(no_manifest, "w:gz") as tar:
        info, data = file_member("database.sqlite3")
        tar.addfile(info, io.BytesIO(data))
    tampered = folder / "tampered.tar.gz"
    with tarfile.open(tampered, "w:gz") as tar, tarfile.open(good) as source:
        for member in source.getmembers():
            data = source.extractfile(member).read()
            if member.name.startswith("media/"):
                data = data.replace(b"PDF", b"EXE")
            tar.addfile(member, io.BytesIO(data))

    def evil(name: str, *members) -> Path:
        sub = folder / name
        sub.mkdir()
        return tar_with(sub, *members)

    return {
        "text file": (text, "not a complete backup archive"),
        "truncated": (truncated, "truncated"),
        "no manifest": (no_manifest, "no manifest"),
        "tampered": (tampered, "checksum"),
        "parent path": (evil("parent", file_member("media/../../etc/passwd")), "unsafe path"),
        "dot dot": (evil("dotdot", file_member("../../etc/passwd")), "unsafe path"),
        "absolute": (evil("absolute", file_member("/etc/passwd")), "unsafe path"),
        "symlink": (evil("symlink", link_member("media/evidence/x", "/etc/passwd")), "links"),
        "hard link": (
            evil("hardlink", link_member("media/evidence/y", "/etc/passwd", tarfile.LNKTYPE)),
            "links",
        ),
        "other member": (evil("other", file_member("settings.py")), "unexpected member"),
        "other engine": (
            an_archive(evil_dir(folder, "engine"), engine=OTHER_ENGINE),
            f"backup is of a {OTHER_ENGINE} database",
        ),
        "newer app": (
            an_archive(
                evil_dir(folder, "newer"), migrations=[*current_migrations(), "plans.9999_future"]
            ),
            "newer version",
        ),
    }


def evil_dir(folder: Path, name: str) -> Path:
    (folder / name).mkdir()
    return folder / name


def test_well_formed_archive_helper_is_accepted(tmp_path):
    unpacked = backup.unpack(an_archive(tmp_path))
    try:
        assert unpacked.manifest.engine == connection.vendor
        assert (unpacked.media / "evidence" / "a.pdf").read_bytes() == b"%PDF-1.4\n"
    finally:
        unpacked.cleanup()


CASES = [
    "text file",
    "truncated",
    "no manifest",
    "tampered",
    "parent path",
    "dot dot",
    "absolute",
    "symlink",
    "hard link",
    "other member",
    "other engine",
    "newer app",
]


@pytest.mark.django_db
@pytest.mark.parametrize("case", CASES)
def test_restore_refuses_a_bad_archive_and_changes_nothing(tmp_path, media, case):
    (media / "kept.pdf").write_bytes(b"%PDF-1.4 kept")
    archive, words = bad_archives(tmp_path / "archives")[case]
    before = all_rows()

    with pytest.raises(CommandError) as refused:
        call_command("restore", str(archive), "--yes")

    assert words in str(refused.value)
    assert "Nothing was changed" in str(refused.value)
    assert all_rows() == before
    assert media_of(media) == {"kept.pdf": b"%PDF-1.4 kept"}
    assert not Path("/etc/passwd").is_symlink()


@pytest.mark.django_db
def test_restore_asks_first_and_a_no_changes_nothing(tmp_path, media, monkeypatch):
    (media / "kept.pdf").write_bytes(b"kept")
    monkeypatch.setattr("builtins.input", lambda prompt: "no")
    archive = an_archive(tmp_path)

    with pytest.raises(CommandError, match="cancelled"):
        call_command("restore", str(archive))

    assert media_of(media) == {"kept.pdf": b"kept"}


@pytest.mark.parametrize(
    "name",
    ["../x", "media/../../x", "/etc/passwd", "C:/x", "media\\..\\x", "", "other/file"],
)
def test_unsafe_member_names_are_refused(name):
    info = tarfile.TarInfo(name)
    with pytest.raises(backup.BackupError):
        backup.check_member(info)


@pytest.mark.parametrize("name", ["manifest.json", "database.sqlite3", "media/evidence/1/a.pdf"])
def test_backup_member_names_are_accepted(name):
    backup.check_member(tarfile.TarInfo(name))


def test_missing_pg_dump_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(backup.BackupError, match="pg_dump is not installed"):
        backup.pg_dump(backup.PgConnection(name="test"), tmp_path / "x.pgdump")
