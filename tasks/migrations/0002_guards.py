from django.db import migrations

from plans import guards

PLAN_JURISDICTION = (
    "SELECT p.jurisdiction_id FROM tasks_task t"
    " JOIN plans_plan p ON p.id = t.plan_id WHERE t.id = NEW.task_id"
)


class Migration(migrations.Migration):
    dependencies = [("tasks", "0001_initial"), ("indicators", "0002_guards")]

    operations = [
        guards.install(
            guards.same_plan_as_section("tasks_task_section_in_plan", "tasks_task"),
            guards.department_in_jurisdiction(
                "tasks_taskdepartment_same_jurisdiction",
                "tasks_taskdepartment",
                PLAN_JURISDICTION,
            ),
        ),
    ]
