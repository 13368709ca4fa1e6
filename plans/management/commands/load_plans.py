"""Load the plans from fixtures/plans/*.yaml (or the files or codes given)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from tasks.loading import PlanFileError, load_plan_file, plan_files


class Command(BaseCommand):
    help = "Load plan fixtures (fixtures/plans/*.yaml); idempotent, all or nothing per file."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="*", help="fixture paths or plan codes (default: all)")
        parser.add_argument("--check", action="store_true", help="validate only; write nothing")

    def handle(self, *args, files: list[str], check: bool, **options):
        if "plans_plan" not in connection.introspection.table_names():
            raise CommandError(
                "the database has no tables yet: run `python manage.py migrate` first"
            )
        failed = []
        for path in plan_files(files):
            if not path.exists():
                failed.append(path.name)
                self.stderr.write(f"{path}: no such file")
                continue
            try:
                result = load_plan_file(path, dry_run=check)
            except PlanFileError as exc:
                failed.append(exc.source)
                self.stderr.write(self.style.ERROR(f"{exc.source}: {len(exc.problems)} problem(s)"))
                for problem in exc.problems:
                    self.stderr.write(f"  - {problem}")
                continue
            counts = ", ".join(f"{k} {v}" for k, v in sorted(result.counts.items()))
            verb = "checked" if check else "loaded"
            self.stdout.write(f"{verb} {result.plan.code}: {counts}")
        if failed:
            raise CommandError(f"could not load: {', '.join(failed)}")
