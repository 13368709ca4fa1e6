"""Office and leader pages: to be written."""

from django.http import Http404


def _todo(*args, **kwargs):
    raise Http404


report_board = report_return = report_return_item = report_accept = _todo
report_reopen = report_comment = period_list = period_edit = _todo
