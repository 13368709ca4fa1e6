"""Any change to a task or its records marks its plan's progress as changed."""

from __future__ import annotations

from django.db.models.signals import m2m_changed, post_delete, post_save

from plans.models import Plan
from tasks.models import Deliverable, Task, TaskDepartment, TaskUpdate


def _task_changed(sender, instance, **kwargs):
    Plan.bump_progress(instance.plan_id)


def _task_record_changed(sender, instance, **kwargs):
    plan_id = Task.objects.filter(pk=instance.task_id).values_list("plan_id", flat=True).first()
    if plan_id is not None:
        Plan.bump_progress(plan_id)


def connect() -> None:
    for signal in (post_save, post_delete):
        signal.connect(_task_changed, sender=Task, dispatch_uid=f"bump-{signal}-task")
        for model in (TaskUpdate, Deliverable, TaskDepartment):
            signal.connect(
                _task_record_changed, sender=model, dispatch_uid=f"bump-{signal}-{model.__name__}"
            )
    m2m_changed.connect(
        _task_changed, sender=Task.indicators.through, dispatch_uid="bump-task-indicators"
    )
