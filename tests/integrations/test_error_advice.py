"""Each Salesforce error a job can end with is explained in plain words, with the next
step a person takes; the advice never tells people to retry what retrying cannot fix."""

from __future__ import annotations

import pytest

from integrations.salesforce.errors import error_advice


@pytest.mark.parametrize(
    ("code", "next_step"),
    [
        (
            "FIELD_CUSTOM_VALIDATION_EXCEPTION",
            "Ask your Salesforce admin, or choose another record",
        ),
        ("DUPLICATES_DETECTED", "Choose that existing record"),
        ("REQUIRED_FIELD_MISSING", "give the field a default"),
        ("INSUFFICIENT_ACCESS_OR_READONLY", "Ask your Salesforce admin for access"),
        ("INSUFFICIENT_ACCESS", "Ask your Salesforce admin"),
        ("CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY", "a trigger or flow"),
        ("ENTITY_IS_DELETED", "Retry to make it again"),
        ("NOT_FOUND", "Retry to make it again"),
        ("INVALID_SESSION_ID", "reconnects Salesforce"),
        ("REQUEST_LIMIT_EXCEEDED", "resumes by itself"),
        ("UNABLE_TO_LOCK_ROW", "retries by itself"),
        ("SERVER_UNAVAILABLE", "retries by itself"),
        ("HTTP_503", "retries by itself"),
        ("TIMEOUT", "retries by itself"),
        ("INVALID_CROSS_REFERENCE_KEY", "Choose another record"),
        ("STRING_TOO_LONG", "lengthen the field"),
        ("SOMETHING_NEW", "Salesforce answered SOMETHING_NEW"),
    ],
)
def test_every_error_says_what_to_do(code: str, next_step: str) -> None:
    assert next_step in error_advice(code, "Salesforce's words.")


def test_a_refusal_quotes_salesforce_once_without_its_code() -> None:
    advice = error_advice(
        "FIELD_CUSTOM_VALIDATION_EXCEPTION",
        "FIELD_CUSTOM_VALIDATION_EXCEPTION: Events need a location.",
    )

    assert advice == (
        "Salesforce refused it: Events need a location. Ask your Salesforce admin, or "
        "choose another record."
    )


@pytest.mark.parametrize("code", ["FIELD_CUSTOM_VALIDATION_EXCEPTION", "STRING_TOO_LONG"])
def test_refusals_retrying_cannot_fix_do_not_promise_a_retry(code: str) -> None:
    assert "retries by itself" not in error_advice(code, "refused")


def test_no_error_means_no_advice() -> None:
    assert error_advice("", "") == ""
