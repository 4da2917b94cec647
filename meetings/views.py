"""The tenant page that plays a meeting's recording: where "Listen to the audio" links
in Salesforce Notes point (`/listen/<meeting>/?t=<seconds>`)."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.http import Http404, HttpResponse
from django.shortcuts import render

from core.errors import NotFound
from meetings.selectors import highlight_list, meeting_get
from tenants.access import TenantRequest, tenant_page

VIDEO_EXTENSIONS = (".mp4", ".m4v", ".webm", ".mov", ".ogv")


def _seconds(value: str | None) -> int:
    """The offset asked for; anything unreadable plays from the start."""
    try:
        return max(0, int(float(value or 0)))
    except (ValueError, OverflowError):
        return 0


@tenant_page()
def meeting_listen(request: TenantRequest, external_id: str) -> HttpResponse:
    tenant = request.membership.tenant
    try:
        meeting = meeting_get(tenant=tenant, external_id=external_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    seconds = _seconds(request.GET.get("t"))
    recording = meeting.recording_url.split("#", 1)[0]
    context = {
        "tenant": tenant,
        "meeting": meeting,
        "seconds": seconds,
        # The media fragment makes the player start at the highlight.
        "media_url": f"{recording}#t={seconds}" if recording else "",
        "is_video": urlsplit(recording).path.lower().endswith(VIDEO_EXTENSIONS),
        "highlights": highlight_list(meeting=meeting),
    }
    return render(request, "meetings/listen.html", context)
