from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("报送")

    def ready(self):
        from reports import signals  # models are ready only now

        signals.connect()
