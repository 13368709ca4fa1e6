from django.urls import path

from plans import views

urlpatterns = [
    path("", views.plan_list, name="home"),
    path("plans/<slug:code>/", views.plan_detail, name="plan-detail"),
    path("departments/", views.department_list, name="department-list"),
    path("departments/<int:pk>/", views.department_detail, name="department-detail"),
]
