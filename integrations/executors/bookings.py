"""booking.sync: scheduler bookings as open Tasks (SPEC 3.6) that follow every
reschedule and cancellation; the booking's version orders them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from integrations.enums import Purpose, SObject
from integrations.executors.base import (
    Executor,
    JobContext,
    Reading,
    choice_followed,
    lead_chosen,
    lead_parents,
    needs_review,
    skipped,
)
from integrations.models import SyncMapping
from integrations.salesforce import payloads
from integrations.salesforce.matching import Directory, Person
from integrations.sync.plan import Finish, Parent, Plan, Slot
from scheduler.models import Booking


@dataclass(kw_only=True)
class BookingReading(Reading):
    booking: Booking
    task: SyncMapping | None


class BookingLog(Executor[BookingReading]):
    def read(self, ctx: JobContext) -> BookingReading | Finish:
        """A Task that exists is updated whatever the booking became (a cancellation
        included: records in doubt were settled before this runs, so a Task made by an
        interrupted run is known here). Only a first logging checks the rules."""
        booking = Booking.objects.filter(pk=ctx.job.object_id, tenant=ctx.tenant).first()
        if booking is None:
            return skipped("The booking no longer exists.")
        task = ctx.mappings(Booking, [booking.pk]).get((booking.pk, Purpose.BOOKING_TASK))
        if task is not None and task.live:
            return BookingReading(booking=booking, task=task, leads=lead_parents([task]))
        if not ctx.settings.log_scheduled_meetings:
            return skipped("Logging scheduled meetings is off for this tenant.")
        if not booking.booked_by_guest:
            return skipped("Only meetings a guest booked through the scheduler are logged.")
        if booking.status == Booking.Status.CANCELLED and (task is None or not task.parent_id):
            return skipped("The booking was cancelled before it was logged.")
        return BookingReading(
            people={booking.guest_email},
            users={booking.host_email},
            leads=lead_parents([task] if task is not None else [])
            | lead_chosen(ctx.params.get("target")),
            booking=booking,
            task=task,
        )

    def plan(self, ctx: JobContext, reading: BookingReading, directory: Directory) -> Plan | Finish:
        booking, task = reading.booking, reading.task
        cancelled = booking.status == Booking.Status.CANCELLED
        payload = booking_task_payload(ctx, booking)
        fields = payload.fields
        plan = ctx.new_plan()
        if task is not None and task.live:
            if task.pushed_version >= booking.version:
                plan.reason = (
                    f"Salesforce already holds version {task.pushed_version} of this booking."
                )
                return plan
            plan.update("task", task, fields, version=booking.version)
            plan.cuts.extend(payload.cuts)
            what = "cancelled" if cancelled else f"version {booking.version}"
            plan.reason = f"The Task now shows the booking {what}."
            return plan
        if task is not None and task.parent_id:
            # Logged before and deleted in Salesforce since: made again for the same guest.
            guest = Person(
                _kind(task.parent_object), task.parent_id, booking.guest_email, task.parent_name
            )
            host = directory.users.get(booking.host_email.lower(), "")
        else:
            found = self._guest(ctx, booking, directory)
            if isinstance(found, Finish):
                return found
            guest, host = found
        fields.update({"WhoId": guest.id, "TaskSubtype": "Task"})
        if host:
            fields["OwnerId"] = host
        plan.create(
            "task",
            Slot.of(booking, Purpose.BOOKING_TASK),
            SObject.TASK,
            fields,
            version=booking.version,
            parent=Parent(guest.sobject, guest.id, guest.name),
        )
        plan.cuts.extend(payload.cuts)
        plan.reason = (
            f"Logged as an open Task for {guest.sobject} {guest.name or guest.id}, owned by "
            "the host."
        )
        return plan

    def _guest(
        self, ctx: JobContext, booking: Booking, directory: Directory
    ) -> tuple[Person, str] | Finish:
        host = directory.users.get(booking.host_email.lower())
        people = directory.people_of(booking.guest_email)
        if not people:
            return skipped(
                f"The guest {booking.guest_email} is not a Contact or Lead in Salesforce; "
                "bookings are logged only for people already there."
            )
        if host is None:
            return skipped(
                f"The host {booking.host_email} has no active Salesforce user with that email."
            )
        chosen = choice_followed(ctx.params.get("target"), directory)
        if chosen:
            return Person(
                _kind(chosen["object"]), chosen["id"], booking.guest_email, chosen.get("name", "")
            ), host
        if len(people) > 1:
            return needs_review(
                f"Several Salesforce records match the guest {booking.guest_email}; choose one.",
                [p.as_candidate().as_dict() for p in people],
            )
        return people[0], host


def booking_task_payload(ctx: JobContext, booking: Booking) -> payloads.Payload:
    """The Task's fields (SPEC 3.6): open while the booking stands, completed and saying
    so once it is cancelled; text cut to fit points at the bookings page."""
    cancelled = booking.status == Booking.Status.CANCELLED
    payload = payloads.booking_task_payload(
        title=booking.title,
        description=booking.description,
        start=booking.start,
        end=booking.end,
        guest=booking.guest_name or booking.guest_email,
        cancelled=cancelled,
        page_url=ctx.page_url("integrations:bookings", search=booking.external_id),
    )
    payload.fields.update(
        {
            "ActivityDate": booking.start.date().isoformat(),
            "Status": "Completed" if cancelled else "Not Started",
        }
    )
    return payload


def _kind(sobject: str) -> Any:
    return "Lead" if sobject == SObject.LEAD else "Contact"
