from __future__ import annotations

from rest_framework.views import APIView

from tenants.models import Tenant, TenantAPIKey


class TenantScopedAPIView(APIView):
    """Base of every partner API view: the tenant comes from the API key, nowhere else.

    Views fetch objects only through selectors that take this tenant, so another
    tenant's object is simply not found (404). It stays in tenants (not core) because
    knowing which key belongs to which tenant is the tenants app's business; the
    generic answers (pages, upserts, errors) live in `core.api`.
    """

    @property
    def tenant(self) -> Tenant:
        api_key = self.request.auth
        assert isinstance(api_key, TenantAPIKey)  # guaranteed by HasTenantAPIKey
        return api_key.tenant
