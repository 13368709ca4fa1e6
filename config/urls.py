from django.contrib import admin
from django.urls import include, path

from config import views
from plans import otp_views

urlpatterns = [
    path("healthz/", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/otp/", otp_views.otp_setup, name="otp-setup"),
    path("accounts/otp/verify/", otp_views.otp_verify, name="otp-verify"),
    path("accounts/otp/remove/", otp_views.otp_remove, name="otp-remove"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/", include("plans.api_urls")),
    path("", include("plans.urls")),
    path("", include("indicators.urls")),
    path("", include("tasks.urls")),
    path("", include("reports.urls")),
]
