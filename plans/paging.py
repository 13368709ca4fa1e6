"""Paging of the site's tables: the page size an address may ask for stays within bounds."""

from __future__ import annotations

from django.core.paginator import Paginator

MAX_PER_PAGE = 500


class BoundedPaginator(Paginator):
    """django-tables2 hands ?per_page= from the address straight to the paginator: a negative
    size made every page number invalid (a 500), a huge one every row a page. Clamp it."""

    def __init__(self, object_list, per_page, *args, **kwargs):
        per_page = min(max(int(per_page), 1), MAX_PER_PAGE)
        super().__init__(object_list, per_page, *args, **kwargs)


def paging(per_page: int) -> dict:
    """RequestConfig's `paginate` options for a table of `per_page` rows a page."""
    return {"per_page": per_page, "paginator_class": BoundedPaginator}
