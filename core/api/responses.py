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
