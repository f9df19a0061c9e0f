"""Pagination of the REST API's list endpoints: `limit` and `offset` query parameters, the rows as the body, and
the whole count and the next page in headers.

    curl -i -H "Authorization: Bearer $HITL_TOKEN" "http://127.0.0.1:7860/api/v1/review?limit=50&offset=100"

The body stays a plain JSON list (what clients already read); `X-Total-Count` is the number of rows over every page
and `Link: <...>; rel="next"` (RFC 8288) is the URL of the next page, absent on the last one. `limit` is bounded, so
no request asks the server for an unbounded list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from fastapi import Query, Request, Response

MAX_LIMIT = 500
DEFAULT_LIMIT = 100
T = TypeVar("T")


@dataclass(frozen=True)
class Page:
    offset: int
    limit: int

    def slice(self, rows: Sequence[T]) -> list[T]:
        return list(rows[self.offset : self.offset + self.limit])


def page_params(
    limit: int = Query(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description=f"Rows per page (at most {MAX_LIMIT})."),
    offset: int = Query(default=0, ge=0, le=2_000_000_000, description="Rows to skip (the next page's offset)."),
) -> Page:
    return Page(offset, limit)


def page_headers(request: Request, response: Response, page: Page, total: int) -> None:
    """Set X-Total-Count, and Link rel="next" while rows remain after this page."""
    response.headers["X-Total-Count"] = str(total)
    following = page.offset + page.limit
    if following < total:
        url = request.url.include_query_params(offset=following, limit=page.limit)
        response.headers["Link"] = f'<{url}>; rel="next"'
