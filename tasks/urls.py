from django.urls import path

from tasks import views

urlpatterns = [
    path("plans/<slug:code>/tasks/<int:pk>/", views.task_detail, name="task-detail"),
    path("plans/<slug:code>/tasks/<int:pk>/update/", views.task_update, name="task-update"),
]
