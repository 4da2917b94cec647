"""Pages that compose several apps (the overview shows meetings, bookings and sync
jobs together). It sits at the top: it may import every app and none imports it."""

from __future__ import annotations

from django.apps import AppConfig

# The module, not its class: a config class in this module's namespace would be taken
# for one more candidate to configure the portal app with.
from django.contrib.admin import apps as admin_apps


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal"


class OpsAdminConfig(admin_apps.AdminConfig):
    """The Django admin with the ops dashboard on its index (INSTALLED_APPS lists this
    in place of "django.contrib.admin"): `admin.site`, and every `@admin.register`, is
    the OpsAdminSite."""

    # Not the portal app's configuration: INSTALLED_APPS names it by its full path.
    default = False
    default_site = "portal.admin_site.OpsAdminSite"
