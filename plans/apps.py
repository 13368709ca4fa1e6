from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.utils.translation import gettext_lazy as _

from plans.guards import sqlite_keep_triggers_on_table_remake


class PlansConfig(AppConfig):
    name = "plans"
    verbose_name = _("规划方案")

    def ready(self):
        from plans import otp, sessions  # noqa: F401 - their login signal receivers

        connection_created.connect(
            sqlite_keep_triggers_on_table_remake, dispatch_uid="sqlite-legacy-alter-table"
        )
