from django.urls import path

from plans import views

urlpatterns = [
    path("", views.plan_list, name="home"),
    path("overview/", views.overview, name="overview"),
    path("plans/<slug:code>/", views.plan_dashboard, name="plan-detail"),
    path("plans/<slug:code>/document/", views.plan_document, name="plan-document"),
    path("departments/", views.department_list, name="department-list"),
    path("departments/<int:pk>/", views.department_detail, name="department-detail"),
]
