"""Point Django at a SQLite file of the benchmark's own, never db.sqlite3 (bench/README.md)."""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def set_up_django(database: Path, *, fresh: bool = True) -> None:
    """Use `database` (deleted first when fresh), with DEBUG off as in production."""
    for suffix in ("", "-wal", "-shm", "-journal") if fresh else ():
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    os.environ["DATABASE_URL"] = f"sqlite:///{database.resolve()}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    # WhiteNoise looks for collected static files; the pages under test do not need them.
    warnings.filterwarnings("ignore", "No directory at", UserWarning)
    import django

    django.setup()
    from django.conf import settings

    # As in production: no query log kept per request, no template debug information.
    settings.DEBUG = False
