"""Any change to an indicator or its data marks its plan's progress as changed."""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save

from indicators.models import (
    AlternativeMilestone,
    Indicator,
    IndicatorDepartment,
    Measurement,
    Milestone,
)
from plans.models import Plan


def _indicator_changed(sender, instance, **kwargs):
    Plan.bump_progress(instance.plan_id)


def _indicator_data_changed(sender, instance, **kwargs):
    plan_id = (
        Indicator.objects.filter(pk=instance.indicator_id).values_list("plan_id", flat=True).first()
    )
    if plan_id is not None:
        Plan.bump_progress(plan_id)


def connect() -> None:
    for signal in (post_save, post_delete):
        signal.connect(_indicator_changed, sender=Indicator, dispatch_uid=f"bump-{signal}-ind")
        for model in (Measurement, Milestone, AlternativeMilestone, IndicatorDepartment):
            signal.connect(
                _indicator_data_changed,
                sender=model,
                dispatch_uid=f"bump-{signal}-{model.__name__}",
            )
