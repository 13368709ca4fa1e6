from django.db import migrations

from plans import guards

PLAN_JURISDICTION = (
    "SELECT p.jurisdiction_id FROM indicators_indicator i"
    " JOIN plans_plan p ON p.id = i.plan_id WHERE i.id = NEW.indicator_id"
)


class Migration(migrations.Migration):
    dependencies = [("indicators", "0001_initial"), ("plans", "0002_guards")]

    operations = [
        guards.install(
            guards.same_plan_as_section(
                "indicators_indicator_section_in_plan", "indicators_indicator"
            ),
            guards.department_in_jurisdiction(
                "indicators_indicatordepartment_same_jurisdiction",
                "indicators_indicatordepartment",
                PLAN_JURISDICTION,
            ),
            guards.percentage_within_bounds(
                "indicators_milestone_percent", "indicators_milestone"
            ),
            guards.percentage_within_bounds(
                "indicators_alternativemilestone_percent", "indicators_alternativemilestone"
            ),
            guards.percentage_within_bounds(
                "indicators_measurement_percent", "indicators_measurement"
            ),
        ),
    ]
