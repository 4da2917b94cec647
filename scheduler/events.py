"""Domain events of scheduler bookings, sent inside the transaction that made the change
with `sender=Booking, instance=<booking>`."""

from __future__ import annotations

from django.dispatch import Signal

# A booking was created, rescheduled or cancelled (a newer version was applied).
booking_changed = Signal()
