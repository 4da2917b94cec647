"""The integration's tenant pages: each page family's module lists its own URLs."""

from __future__ import annotations

from integrations.views import bookings, calls, connection, meetings, sync_log

app_name = "integrations"

urlpatterns = [
    *connection.urlpatterns,
    *meetings.urlpatterns,
    *calls.urlpatterns,
    *bookings.urlpatterns,
    *sync_log.urlpatterns,
]
