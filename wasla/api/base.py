"""The base of every merchant API view: the query string holds only what the view reads.

An unknown query parameter is a 400, not ignored: a misspelt filter (`?stauts=paid`) must not
quietly return everything, and a parameter sent twice has no single meaning.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request


class ApiView(GenericAPIView):
    # The serializer that reads this view's GET query parameters, if any.
    filter_serializer: type[serializers.Serializer] | None = None
    # Whether GET answers a page of a list (then `limit` and `offset` are known parameters).
    paginated = False

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # authentication first: 401 before 400
        known: set[str] = set()
        if request.method in ("GET", "HEAD"):
            if self.filter_serializer is not None:
                known.update(self.filter_serializer().fields)
            if self.paginated and self.paginator is not None:
                known.update(("limit", "offset"))
        errors = {}
        for name in request.query_params:
            if name not in known:
                errors[name[:100]] = ["Unknown query parameter."]
            elif len(request.query_params.getlist(name)) > 1:
                errors[name] = ["Give this parameter once."]
        if errors:
            raise ValidationError(dict(list(errors.items())[:10]))
