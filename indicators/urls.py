from django.urls import path

from indicators import views

urlpatterns = [
    path(
        "plans/<slug:code>/indicators/<slug:indicator>/",
        views.indicator_detail,
        name="indicator-detail",
    ),
]
