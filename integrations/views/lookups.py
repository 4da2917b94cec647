"""When a tenant page may ask the tenant's Salesforce (a match preview, a search by
name): each question spends some of the org's daily API calls."""

from __future__ import annotations

from tenants.access import TenantRequest

VIEWING_AS_OPS = (
    "Viewing as the tenant, ops don't ask Salesforce: it spends the tenant's API calls."
)
FROM_ELSEWHERE = (
    "Salesforce is asked from this page only: use its button or search box to look it up."
)


def lookup_refusal(request: TenantRequest) -> str:
    """Why this request may not ask Salesforce, or "" when it may.

    1. Ops viewing as the tenant read what is here; asking Salesforce would act for it.
    2. Only the page itself asks: an htmx request, or a form or button of the portal
       (the browser says `Sec-Fetch-Site: same-origin`). A link from an email, a chat
       or another site opens the page without spending the tenant's calls."""
    if request.viewing_as_ops:
        return VIEWING_AS_OPS
    if request.headers.get("HX-Request") == "true":
        return ""
    if request.headers.get("Sec-Fetch-Site") == "same-origin":
        return ""
    return FROM_ELSEWHERE
