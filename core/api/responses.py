"""Answers every partner API view gives the same way: a page of a list, and the
outcome of an upsert (201 when it made the object, 200 when it updated one)."""

from __future__ import annotations

import re
from typing import Any

from rest_framework import serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

_WHOLE_NUMBER = re.compile(r"[0-9]+")


class PartnerPagination(PageNumberPagination):
    """`?page=` (from 1; past the last page: 404) and `?page_size=` (from 1; a larger
    one than 200 gives 200; the default comes from REST_FRAMEWORK). Either one that is
    not a whole number from 1 is a 400 naming it, not a silently different page."""

    page_size_query_param = "page_size"
    max_page_size = 200
    # Pages are numbers only, as the schema says.
    last_page_strings = ()

    def paginate_queryset(
        self, queryset: Any, request: Request, view: APIView | None = None
    ) -> list[Any] | None:
        errors = {
            name: ["A whole number from 1 is expected."]
            for name in (self.page_query_param, self.page_size_query_param)
            if name in request.query_params and not _is_from_one(request.query_params[name])
        }
        if errors:
            raise serializers.ValidationError(errors)
        return super().paginate_queryset(queryset, request, view=view)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters: list[dict[str, Any]] = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"]["maximum"] = self.max_page_size
                parameter["description"] = (
                    f"Results per page, a whole number from 1; a larger one than "
                    f"{self.max_page_size} gives {self.max_page_size}. Anything else: 400."
                )
            else:
                parameter["description"] = (
                    "The page to answer, a whole number from 1 (anything else: 400); "
                    "past the last: 404."
                )
        return parameters


def _is_from_one(value: str) -> bool:
    return _WHOLE_NUMBER.fullmatch(value) is not None and int(value) >= 1


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
