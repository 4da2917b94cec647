from __future__ import annotations

from typing import Any

from rest_framework import status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from tenants.models import Tenant, TenantAPIKey


class TenantScopedAPIView(APIView):
    """Base of every partner API view: the tenant comes from the API key, nowhere else.

    Views fetch objects only through selectors that take this tenant, so another
    tenant's object is simply not found (404).
    """

    @property
    def tenant(self) -> Tenant:
        api_key = self.request.auth
        assert isinstance(api_key, TenantAPIKey)  # guaranteed by HasTenantAPIKey
        return api_key.tenant


def paginated(view: TenantScopedAPIView, queryset: Any, serializer_class: type) -> Response:
    paginator = PageNumberPagination()
    page = paginator.paginate_queryset(queryset, view.request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)


def upserted(obj: Any, created: bool, serializer_class: type) -> Response:
    return Response(
        serializer_class(obj).data,
        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
    )
