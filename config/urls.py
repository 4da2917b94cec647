from __future__ import annotations

from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from core.api.errors import api_not_found
from portal.health import health, health_web

urlpatterns = [
    path("health/", health, name="health"),
    path("health/web/", health_web, name="health-web"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("config.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    re_path(r"^api/", api_not_found),
    path("", include("integrations.urls")),
    path("", include("meetings.urls")),
    path("", include("tenants.urls")),
    path("", include("portal.urls")),
]

# An unexpected error answers JSON under /api/ and the HTML page elsewhere.
handler500 = "core.api.errors.server_error"
