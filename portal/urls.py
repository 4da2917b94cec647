from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import include, path

from portal import viewing, views

# Sign-in and sign-out keep their bare names ("login", "logout": settings.LOGIN_URL and
# the templates use them); the overview is namespaced "portal:home".
urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "",
        include(
            (
                [
                    path("", views.home, name="home"),
                    path("overview/live/", views.overview_live, name="overview-live"),
                    path("ops/view-as/<int:tenant_id>/", viewing.view_as, name="view-as"),
                    path("ops/view-as/stop/", viewing.view_as_end, name="view-as-stop"),
                ],
                "portal",
            )
        ),
    ),
]
