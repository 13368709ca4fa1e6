"""Back up and restore the whole site: the database and the uploaded files, in one archive.

An archive is a gzipped tar holding

    manifest.json        what it is: time, engine, app version, migrations, rows per table,
                         and the size and SHA-256 of every other member
    database.sqlite3     SQLite: a consistent copy made with SQLite's online backup API
    database.pgdump      PostgreSQL: `pg_dump --format=custom` of the configured database
    media/...            the uploaded files (MEDIA_ROOT: evidence)

Nothing here knows the app's models: it copies databases and files. A restore reads and checks
the whole archive (members, checksums, engine, migrations) before it changes anything.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

FORMAT = "eldercare-tracker-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.pgdump"
MEDIA = "media"
CHUNK = 1024 * 1024


class BackupError(Exception):
    """The backup or restore cannot go ahead; the message says why (nothing was changed)."""


@dataclass
class Manifest:
    engine: str
    created_at: str
    app_version: str
    migrations: list[str]  # "app.name" of every applied migration
    counts: dict[str, int]  # rows per table
    files: dict[str, dict]  # member name → {"size": int, "sha256": str}
    format: str = FORMAT
    format_version: int = FORMAT_VERSION

    def to_json(self) -> bytes:
        return json.dumps(self.__dict__, ensure_ascii=False, indent=2, sort_keys=True).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Manifest:
        try:
            fields = json.loads(data)
            if fields.get("format") != FORMAT:
                raise BackupError("not a backup of this app (manifest.json names another format)")
            if fields.get("format_version") != FORMAT_VERSION:
                raise BackupError(
                    f"backup format version {fields.get('format_version')} is not supported "
                    f"(this app reads version {FORMAT_VERSION})"
                )
            return cls(**fields)
        except (ValueError, TypeError, AttributeError) as error:
            raise BackupError(f"manifest.json is not valid: {error}") from error


@dataclass(frozen=True)
class PgConnection:
    """What pg_dump and pg_restore need to reach the database (from settings.DATABASES)."""

    name: str
    user: str = ""
    password: str = ""
    host: str = ""
    port: str = ""

    @classmethod
    def from_settings(cls, database: dict) -> PgConnection:
        return cls(
            name=database["NAME"],
            user=database.get("USER") or "",
            password=database.get("PASSWORD") or "",
            host=database.get("HOST") or "",
            port=str(database.get("PORT") or ""),
        )

    def args(self) -> list[str]:
        args = ["--dbname", self.name]
        for flag, value in (
            ("--host", self.host),
            ("--port", self.port),
            ("--username", self.user),
        ):
            if value:
                args += [flag, value]
        return [*args, "--no-password"]

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.password:
            env["PGPASSWORD"] = self.password  # not on the command line, where `ps` shows it
        return env


# -- Files -----------------------------------------------------------------------------------


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def media_files(media_root: Path) -> list[Path]:
    """Regular files under MEDIA_ROOT, sorted; symbolic links are not followed or kept."""
    if not media_root.is_dir():
        return []
    found = []
    for folder, dirs, files in os.walk(media_root):
        dirs.sort()
        for name in sorted(files):
            path = Path(folder) / name
            if path.is_file() and not path.is_symlink():
                found.append(path)
    return found


def check_member(member: tarfile.TarInfo) -> None:
    """Refuse anything that could write outside the extraction folder or is not plain data."""
    name = member.name
    path = PurePosixPath(name)
    if not name or path.is_absolute() or name.startswith(("/", "\\")) or ":" in path.parts[0]:
        raise BackupError(f"unsafe path in archive: {name!r} (absolute)")
    if ".." in path.parts or "\\" in name:
        raise BackupError(f"unsafe path in archive: {name!r} (leaves the backup folder)")
    if not (member.isfile() or member.isdir()):
        raise BackupError(f"unsafe member in archive: {name!r} (links and devices are refused)")
    if path.parts[0] not in (MANIFEST, SQLITE_FILE, PG_FILE, MEDIA):
        raise BackupError(f"unexpected member in archive: {name!r}")


# -- Writing ---------------------------------------------------------------------------------


def sqlite_copy(source: sqlite3.Connection, target: Path) -> None:
    """A consistent copy of a live SQLite database (file or in memory) with the backup API."""
    destination = sqlite3.connect(target)
    try:
        source.backup(destination)
    finally:
        destination.close()


def sqlite_state(path: Path) -> tuple[list[str], dict[str, int]]:
    """The applied migrations and the rows per table of a SQLite database file."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [
            row[0]
            for row in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        # Table names come from the copy's own catalogue, not from any input.
        counts = {t: db.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}  # noqa: S608
        migrations = []
        if "django_migrations" in tables:
            migrations = [
                f"{app}.{name}"
                for app, name in db.execute("SELECT app, name FROM django_migrations")
            ]
        integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
    except sqlite3.DatabaseError as error:
        raise BackupError(f"the database copy is not a valid SQLite database: {error}") from error
    finally:
        db.close()
    if integrity != "ok":
        raise BackupError(f"the database copy fails SQLite's integrity check: {integrity}")
    return sorted(migrations), counts


def pg_dump(conn: PgConnection, target: Path, *, snapshot: str = "") -> None:
    command = ["pg_dump", "--format=custom", "--file", str(target), *conn.args()]
    if snapshot:
        command += ["--snapshot", snapshot]
    _run(command, conn, "pg_dump")


def _run(command: list[str], conn: PgConnection, tool: str) -> None:
    if shutil.which(tool) is None:
        raise BackupError(
            f"{tool} is not installed or not on PATH: install the PostgreSQL client "
            f"(Debian: apt-get install postgresql-client) of the server's major version"
        )
    # A list of arguments, no shell: settings values cannot inject a command.
    result = subprocess.run(command, env=conn.env(), capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BackupError(f"{tool} failed (exit {result.returncode}): {result.stderr.strip()}")


def write_archive(
    output: Path, *, database: Path, manifest: Manifest, media_root: Path
) -> Manifest:
    """Write the archive: database, media files and the manifest with their checksums.

    Written to a temporary name beside `output` and renamed at the end, so an interrupted
    backup never leaves a file that looks complete.
    """
    db_name = SQLITE_FILE if manifest.engine == "sqlite" else PG_FILE
    members: list[tuple[str, Path]] = [(db_name, database)]
    for path in media_files(media_root):
        members.append((f"{MEDIA}/{path.relative_to(media_root).as_posix()}", path))
    manifest.files = {
        name: {"size": path.stat().st_size, "sha256": sha256_of(path)} for name, path in members
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    fd, partial = tempfile.mkstemp(prefix=f".{output.name}.", dir=output.parent)
    os.close(fd)
    try:
        with tarfile.open(partial, "w:gz") as tar:
            data = manifest.to_json()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime, info.mode = len(data), int(dt.datetime.now().timestamp()), 0o600
            tar.addfile(info, _BytesReader(data))
            for name, path in members:
                info = tar.gettarinfo(str(path), arcname=name)
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                info.mode = 0o600
                with path.open("rb") as f:
                    tar.addfile(info, f)
        os.chmod(partial, 0o600)  # it holds every account's password hash
        os.replace(partial, output)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    return manifest


class _BytesReader:
    def __init__(self, data: bytes):
        self.data, self.pos = data, 0

    def read(self, size: int = -1) -> bytes:
        end = len(self.data) if size < 0 else self.pos + size
        chunk, self.pos = self.data[self.pos : end], min(end, len(self.data))
        return chunk


# -- Reading ---------------------------------------------------------------------------------


@dataclass
class Unpacked:
    """A whole archive read and checked into a temporary folder (delete it with cleanup())."""

    folder: Path
    manifest: Manifest

    @property
    def database(self) -> Path:
        return self.folder / (SQLITE_FILE if self.manifest.engine == "sqlite" else PG_FILE)

    @property
    def media(self) -> Path:
        return self.folder / MEDIA

    def cleanup(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def unpack(archive: Path, *, work_dir: Path | None = None) -> Unpacked:
    """Read and check the whole archive; raise BackupError and leave nothing behind if it is not
    a complete, untampered backup of this app."""
    if not archive.is_file():
        raise BackupError(f"no such file: {archive}")
    folder = Path(tempfile.mkdtemp(prefix="restore-", dir=work_dir))
    try:
        manifest = _extract(archive, folder)
        _verify(folder, manifest)
        return Unpacked(folder, manifest)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _extract(archive: Path, folder: Path) -> Manifest:
    try:
        with tarfile.open(archive, "r:*") as tar:
            members = tar.getmembers()  # reads to the end: a truncated file fails here
            for member in members:
                check_member(member)
            names = [m.name for m in members if m.isfile()]
            if MANIFEST not in names:
                raise BackupError("not a backup: the archive has no manifest.json")
            if len(set(names)) != len(names):
                raise BackupError("the archive names a file twice")
            for member in members:
                target = folder / member.name
                if member.isdir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                source = tar.extractfile(member)
                with target.open("wb") as out:
                    shutil.copyfileobj(source, out, CHUNK)
    except (tarfile.TarError, EOFError, OSError, UnicodeDecodeError) as error:
        raise BackupError(
            f"not a complete backup archive (not a tar.gz, or truncated): {error}"
        ) from error
    return Manifest.from_json((folder / MANIFEST).read_bytes())


def _verify(folder: Path, manifest: Manifest) -> None:
    if manifest.engine not in ("sqlite", "postgresql"):
        raise BackupError(f"unknown database engine in manifest: {manifest.engine!r}")
    database = SQLITE_FILE if manifest.engine == "sqlite" else PG_FILE
    if database not in manifest.files:
        raise BackupError(f"the backup holds no {database}")
    present = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    present.discard(MANIFEST)
    if present != set(manifest.files):
        missing = sorted(set(manifest.files) - present)
        extra = sorted(present - set(manifest.files))
        raise BackupError(
            f"the archive does not match its manifest (missing {missing}, extra {extra})"
        )
    for name, expected in manifest.files.items():
        path = folder / name
        if path.stat().st_size != expected["size"] or sha256_of(path) != expected["sha256"]:
            raise BackupError(f"{name} is damaged: its checksum differs from the manifest")


# -- Restoring -------------------------------------------------------------------------------


def sqlite_restore(source: Path, target: sqlite3.Connection) -> None:
    """Replace the whole live database with the copy, in one write transaction.

    The backup API takes SQLite's write lock, writes every page and commits (or writes nothing);
    other connections, the app's included, see the old database or the new one, never a mix.
    """
    db = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        db.backup(target)
    finally:
        db.close()


def pg_restore(conn: PgConnection, source: Path) -> None:
    command = [
        "pg_restore",
        "--clean",
        "--if-exists",
        "--no-owner",
        "--no-privileges",
        "--single-transaction",  # all or nothing
        "--exit-on-error",
        *conn.args(),
        str(source),
    ]
    _run(command, conn, "pg_restore")


def replace_media(source: Path, media_root: Path) -> None:
    """Put the backup's files in place of MEDIA_ROOT's: the new folder is complete before a
    rename swaps it in, and the old one is removed only after."""
    media_root = media_root.resolve()
    media_root.parent.mkdir(parents=True, exist_ok=True)
    staged = Path(tempfile.mkdtemp(prefix=f".{media_root.name}-new-", dir=media_root.parent))
    try:
        if source.is_dir():
            shutil.copytree(source, staged, dirs_exist_ok=True)
        old = None
        if media_root.exists():
            old = media_root.with_name(f".{media_root.name}-old-{os.getpid()}")
            shutil.rmtree(old, ignore_errors=True)
            media_root.rename(old)
        staged.rename(media_root)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise


def confirm(prompt: str, ask: Callable[[str], str] | None = None) -> bool:
    try:
        return (ask or input)(prompt).strip().lower() in ("yes", "y", "是")
    except EOFError:
        return False
