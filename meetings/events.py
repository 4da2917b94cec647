"""Domain events of meetings and activities.

Sent by `meetings.services` inside the transaction that made the change. Receivers
(the sync, in `integrations`) must not do outside work before the commit.
Each is sent with `sender=<model class>, instance=<object>`.
"""

from __future__ import annotations

from django.dispatch import Signal

# A highlight was created, edited or deleted (soft): instance is the Highlight.
highlight_changed = Signal()
# Several highlights of one meeting were created or edited in one request: instance is
# the Meeting, `highlights` the list of those that changed.
highlights_changed = Signal()
# A meeting reached status "processed": all highlights and the transcript are in.
meeting_processed = Signal()
# A meeting's title or time changed after it was created.
meeting_changed = Signal()
# An activity (call, conference, task) was created or edited.
activity_changed = Signal()
