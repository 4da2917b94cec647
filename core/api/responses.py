"""Answers every partner API view gives the same way: a page of a list, and the
outcome of an upsert (201 when it made the object, 200 when it updated one)."""

from __future__ import annotations

from typing import Any

from rest_framework import status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView


class PartnerPagination(PageNumberPagination):
    """`?page=` and `?page_size=` (up to 200; the default comes from REST_FRAMEWORK)."""

    page_size_query_param = "page_size"
    max_page_size = 200

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters: list[dict[str, Any]] = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"]["maximum"] = self.max_page_size
                parameter["description"] = (
                    f"Results per page, up to {self.max_page_size} (a larger one gives "
                    f"{self.max_page_size})."
                )
            else:
                parameter["description"] = "The page to answer, from 1; past the last: 404."
        return parameters


def paginated(view: APIView, queryset: Any, serializer_class: type) -> Response:
    # Called by hand (not through a generic view) because our views are plain APIViews
    # with explicit output serializers.
    paginator = PartnerPagination()
    page: list[Any] | None = paginator.paginate_queryset(queryset, view.request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)


def upserted(obj: Any, created: bool, serializer_class: type) -> Response:
    return Response(
        serializer_class(obj).data,
        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
    )
