"""Liaison pages: to be written."""

from django.http import Http404


def _todo(*args, **kwargs):
    raise Http404


report_home = report_detail = report_edit = report_history = report_start = _todo
