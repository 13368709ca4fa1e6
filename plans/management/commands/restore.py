"""Restore the database and the uploaded files from an archive written by `backup`."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.loader import MigrationLoader

from plans import backup


class Command(BaseCommand):
    help = (
        "Replace the configured database and MEDIA_ROOT with the contents of a backup archive. "
        "The whole archive is read and checked first; a refused archive changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("archive", help="a .tar.gz written by `manage.py backup`")
        parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, archive: str, yes: bool, database: str, **options):
        connection = connections[database]
        try:
            unpacked = backup.unpack(Path(archive))
        except backup.BackupError as error:
            raise CommandError(f"refused {archive}: {error}. Nothing was changed.") from error
        try:
            manifest = unpacked.manifest
            self._check(manifest, connection)
            if not yes and not backup.confirm(self._question(manifest, connection)):
                raise CommandError("Restore cancelled. Nothing was changed.")
            if connection.in_atomic_block:
                raise CommandError("cannot restore from inside a transaction. Nothing was changed.")
            if connection.vendor == "sqlite":
                connection.ensure_connection()
                backup.sqlite_restore(unpacked.database, connection.connection)
            else:
                connection.close()  # pg_restore drops the tables: hold no session on them
                conn = backup.PgConnection.from_settings(connection.settings_dict)
                backup.pg_restore(conn, unpacked.database)
            backup.replace_media(unpacked.media, Path(settings.MEDIA_ROOT))
        except backup.BackupError as error:
            raise CommandError(f"restore failed: {error}") from error
        finally:
            unpacked.cleanup()
        # Dashboards are cached under version numbers that the restored data reuses.
        cache.clear()
        self.stdout.write(
            f"Restored the backup of {manifest.created_at} ({manifest.app_version}): "
            f"{sum(manifest.counts.values()):,} rows, "
            f"{sum(1 for n in manifest.files if n.startswith(backup.MEDIA + '/'))} uploaded files. "
            "Restart the app servers (each keeps a cache of its own) and run "
            "`manage.py migrate` if this app is newer than the backup."
        )

    def _check(self, manifest: backup.Manifest, connection) -> None:
        if manifest.engine != connection.vendor:
            raise CommandError(
                f"refused: the backup is of a {manifest.engine} database and this site uses "
                f"{connection.vendor}. Nothing was changed. (To move between engines, use "
                "dumpdata/loaddata.)"
            )
        known = {f"{app}.{name}" for app, name in MigrationLoader(None).disk_migrations}
        unknown = sorted(set(manifest.migrations) - known)
        if unknown:
            raise CommandError(
                f"refused: the backup was made by a newer version of the app "
                f"({manifest.app_version}; migrations unknown here: {', '.join(unknown[:5])}). "
                "Install that version first. Nothing was changed."
            )

    def _question(self, manifest: backup.Manifest, connection) -> str:
        where = connection.settings_dict["NAME"]
        return (
            f"This replaces ALL data in {where} and in {settings.MEDIA_ROOT} with the backup of "
            f"{manifest.created_at} ({sum(manifest.counts.values()):,} rows, "
            f"{len(manifest.files) - 1} uploaded files). Type 'yes' to continue: "
        )
