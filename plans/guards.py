"""Database triggers for rules a CHECK constraint cannot express because they span tables.

Example: a task's department must belong to the jurisdiction of the task's plan. Each guard is
a condition over the new row (`NEW.column`) that must not hold; the database refuses the row with
an integrity error, whatever code path wrote it (forms, admin, imports, raw SQL).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import migrations


@dataclass(frozen=True)
class Guard:
    name: str
    table: str
    violation: str  # SQL boolean over NEW.<column>, true when the row must be refused
    message: str

    def create_sql(self, vendor: str) -> list[str]:
        if vendor == "sqlite":
            return [
                f"""CREATE TRIGGER {self.name}_{event.lower()} BEFORE {event} ON {self.table}
                FOR EACH ROW WHEN {self.violation}
                BEGIN SELECT RAISE(ABORT, '{self.message}'); END;"""
                for event in ("INSERT", "UPDATE")
            ]
        if vendor == "postgresql":
            return [
                f"""CREATE OR REPLACE FUNCTION {self.name}_fn() RETURNS trigger AS $$
                BEGIN
                    IF {self.violation} THEN
                        RAISE EXCEPTION '{self.message}' USING ERRCODE = 'check_violation';
                    END IF;
                    RETURN NEW;
                END $$ LANGUAGE plpgsql;""",
                f"""CREATE TRIGGER {self.name} BEFORE INSERT OR UPDATE ON {self.table}
                FOR EACH ROW EXECUTE FUNCTION {self.name}_fn();""",
            ]
        raise NotImplementedError(f"no guard triggers for {vendor}")

    def drop_sql(self, vendor: str) -> list[str]:
        if vendor == "sqlite":
            return [f"DROP TRIGGER IF EXISTS {self.name}_{e}" for e in ("insert", "update")]
        return [
            f"DROP TRIGGER IF EXISTS {self.name} ON {self.table}",
            f"DROP FUNCTION IF EXISTS {self.name}_fn()",
        ]


def install(*guards: Guard) -> migrations.RunPython:
    """A migration operation that creates the guards on SQLite or PostgreSQL."""

    def forward(apps, schema_editor):
        for guard in guards:
            for sql in guard.create_sql(schema_editor.connection.vendor):
                schema_editor.execute(sql, params=None)

    def backward(apps, schema_editor):
        for guard in guards:
            for sql in guard.drop_sql(schema_editor.connection.vendor):
                schema_editor.execute(sql, params=None)

    return migrations.RunPython(forward, backward)


def department_in_jurisdiction(name: str, table: str, jurisdiction_sql: str) -> Guard:
    """Refuse a row whose NEW.department_id lies outside the jurisdiction `jurisdiction_sql`."""
    return Guard(
        name=name,
        table=table,
        violation=(
            "(SELECT jurisdiction_id FROM plans_department WHERE id = NEW.department_id)"
            f" IS DISTINCT FROM ({jurisdiction_sql})"
        ),
        message="department belongs to another jurisdiction",
    )


def same_plan_as_section(name: str, table: str) -> Guard:
    """Refuse a row whose NEW.section_id is a chapter of another plan than NEW.plan_id."""
    return Guard(
        name=name,
        table=table,
        violation="(SELECT plan_id FROM plans_section WHERE id = NEW.section_id)"
        " IS DISTINCT FROM NEW.plan_id",
        message="section belongs to another plan",
    )


def percentage_within_bounds(name: str, table: str) -> Guard:
    """Refuse a value over 100 for an indicator measured in percent."""
    return Guard(
        name=name,
        table=table,
        violation="NEW.value > 100 AND "
        "(SELECT unit FROM indicators_indicator WHERE id = NEW.indicator_id) = '%'",
        message="a percentage must lie between 0 and 100",
    )


def sqlite_keep_triggers_on_table_remake(sender, connection, **kwargs) -> None:
    """Let Django remake a table that other tables' guard triggers name.

    Django alters a SQLite table by building a new one and renaming it into place. Modern
    SQLite re-parses every trigger during that rename and fails while the old table is gone;
    the legacy rename leaves triggers alone, and they name the table again once it is back.
    """
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA legacy_alter_table = ON")
