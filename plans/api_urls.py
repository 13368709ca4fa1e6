from django.urls import path, re_path

from plans import api

urlpatterns = [
    # <str:code>, not <slug:code>: an odd code still gets the API's JSON 404, not an HTML page.
    path("plans/<str:code>/progress", api.plan_progress, name="api-plan-progress"),
    path("openapi.json", api.openapi, name="api-openapi"),
    re_path(r"^(?P<path>.*)$", api.not_found),
]
