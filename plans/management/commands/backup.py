"""Write one archive with a consistent copy of the database and the uploaded files."""

from __future__ import annotations

import tempfile
from importlib import metadata
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone

from plans import backup


def app_version() -> str:
    try:
        return metadata.version("eldercare-tracker")
    except metadata.PackageNotFoundError:
        return "unknown"


def pg_dump_consistent(alias: str, target: Path) -> tuple[list[str], dict[str, int]]:
    """pg_dump, the migrations and the row counts, all from one snapshot of the database.

    The counts are read in a repeatable-read transaction whose snapshot pg_dump is handed, so
    the manifest describes exactly the rows in the dump while the app goes on writing.
    """
    connection = connections[alias]
    with transaction.atomic(using=alias), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]
        counts = {}
        for table in sorted(connection.introspection.table_names(cursor)):
            # The database's own table names, quoted: no input reaches this query.
            cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608
            counts[table] = cursor.fetchone()[0]
        cursor.execute("SELECT app, name FROM django_migrations")
        migrations = sorted(f"{app}.{name}" for app, name in cursor.fetchall())
        conn = backup.PgConnection.from_settings(connection.settings_dict)
        backup.pg_dump(conn, target, snapshot=snapshot)
    return migrations, counts


class Command(BaseCommand):
    help = (
        "Write one .tar.gz archive holding a consistent copy of the database (SQLite: online "
        "backup; PostgreSQL: pg_dump), the uploaded files and a manifest. Safe while the app runs."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "-o",
            "--output",
            help="the archive to write (default: backups/tracker-<time>.tar.gz)",
        )
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, output: str | None, database: str, **options):
        connection = connections[database]
        if connection.in_atomic_block:
            raise CommandError("cannot back up from inside a transaction: run it on its own")
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
        target = Path(output or settings.BASE_DIR / "backups" / f"tracker-{stamp}.tar.gz")
        try:
            with tempfile.TemporaryDirectory(prefix="backup-") as tmp:
                if connection.vendor == "sqlite":
                    copy = Path(tmp) / backup.SQLITE_FILE
                    connection.ensure_connection()
                    backup.sqlite_copy(connection.connection, copy)
                    migrations, counts = backup.sqlite_state(copy)
                elif connection.vendor == "postgresql":
                    copy = Path(tmp) / backup.PG_FILE
                    migrations, counts = pg_dump_consistent(database, copy)
                else:
                    raise CommandError(f"no backup for the {connection.vendor} engine")
                manifest = backup.Manifest(
                    engine=connection.vendor,
                    created_at=timezone.now().isoformat(),
                    app_version=app_version(),
                    migrations=migrations,
                    counts=counts,
                    files={},
                )
                backup.write_archive(
                    target, database=copy, manifest=manifest, media_root=Path(settings.MEDIA_ROOT)
                )
        except backup.BackupError as error:
            raise CommandError(f"backup failed: {error}") from error
        media = sum(1 for name in manifest.files if name.startswith(backup.MEDIA + "/"))
        self.stdout.write(
            f"Wrote {target} ({target.stat().st_size:,} bytes): {connection.vendor} database, "
            f"{sum(counts.values()):,} rows in {len(counts)} tables, {media} uploaded files."
        )
