from django.db import migrations

from plans import guards


class Migration(migrations.Migration):
    dependencies = [("plans", "0001_initial")]

    operations = [
        guards.install(
            guards.department_in_jurisdiction(
                "plans_departmentalias_same_jurisdiction",
                "plans_departmentalias",
                "NEW.jurisdiction_id",
            ),
        ),
    ]
