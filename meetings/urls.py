from __future__ import annotations

from django.urls import path

from meetings import views

app_name = "meetings"

urlpatterns = [
    path("listen/<extid:external_id>/", views.meeting_listen, name="listen"),
]
