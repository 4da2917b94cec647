from __future__ import annotations

from django.urls import path

from scheduler.api import views

urlpatterns = [
    path("bookings/", views.BookingListCreateView.as_view(), name="booking-list"),
    path("bookings/<str:external_id>/", views.BookingDetailView.as_view(), name="booking-detail"),
    path(
        "bookings/<str:external_id>/reschedule/",
        views.BookingRescheduleView.as_view(),
        name="booking-reschedule",
    ),
    path(
        "bookings/<str:external_id>/cancel/",
        views.BookingCancelView.as_view(),
        name="booking-cancel",
    ),
    path(
        "scheduler/webhooks/<slug:tenant_slug>/",
        views.SchedulerWebhookView.as_view(),
        name="scheduler-webhook",
    ),
]
