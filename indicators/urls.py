from django.urls import path

from indicators import views

urlpatterns = [
    path(
        "plans/<slug:code>/indicators/<slug:indicator>/",
        views.indicator_detail,
        name="indicator-detail",
    ),
    path(
        "plans/<slug:code>/indicators/<slug:indicator>/values/",
        views.measurement_edit,
        name="measurement-edit",
    ),
    path(
        "plans/<slug:code>/values/<str:period>/",
        views.measurement_grid,
        name="measurement-grid",
    ),
]
