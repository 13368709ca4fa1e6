from django.urls import path

from tasks import import_views, views

urlpatterns = [
    path("plans/<slug:code>/tasks/<int:pk>/", views.task_detail, name="task-detail"),
    path("plans/<slug:code>/tasks/<int:pk>/update/", views.task_update, name="task-update"),
    path("plans/<slug:code>/tasks/import/", import_views.task_import, name="task-import"),
    path(
        "plans/<slug:code>/tasks/import/confirm/",
        import_views.task_import_confirm,
        name="task-import-confirm",
    ),
]
