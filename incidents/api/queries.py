"""What the API's lists, maps, statistics and exports take in their query: the incident
filter, its order and its pages.

The schemas document the query for the OpenAPI document; reading it is
:func:`incidents.filters.parse_request`'s, the very function the pages call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import marshmallow as ma
from flask_babel import lazy_gettext as _l
from marshmallow import fields, validate

from capdb import db
from incidents.api.schemas import (
    DEFAULT_GEOJSON_PER_PAGE,
    MAX_GEOJSON_PER_PAGE,
    Problems,
    Schema,
    Text,
    at_most,
    listing,
    per_page_field,
)
from incidents.filters import (
    DEFAULT_SORT,
    FILTER_FIELDS,
    FILTER_ONLY,
    MAX_CURSOR,
    PAGED,
    SORTED,
    SORTS,
    FilterField,
    Paging,
    parse_request,
)


def _filter_argument(name: str) -> fields.String:
    """A query argument of the filter, documented as :mod:`incidents.filters` declares it."""
    return filter_argument(FILTER_FIELDS_BY_NAME[name])


def filter_argument(declared: FilterField) -> fields.String:
    """A query argument documented as its :class:`incidents.filters.FilterField` declares it;
    the field only documents: reading the value is the filter parser's."""
    metadata: dict[str, Any] = {"description": declared.description}
    if declared.format:
        metadata["format"] = declared.format
    if declared.max_length:
        metadata["maxLength"] = declared.max_length
    return listing(fields.String(metadata=metadata), declared.values)


FILTER_FIELDS_BY_NAME = {field.name: field for field in FILTER_FIELDS}


class FilterQuery(Schema):
    """The filter lists, maps, statistics and exports share.

    Its fields document the query; reading it is :func:`incidents.filters.parse_request`'s,
    the very function the pages call, so that a value one path refuses no path takes.
    Fields a subclass adds beyond the filter and its paging are loaded as usual.
    """

    paging: ClassVar[Paging] = FILTER_ONLY

    class Meta(Schema.Meta):
        unknown = ma.EXCLUDE

    mission = _filter_argument("mission")
    state = _filter_argument("state")
    date_from = _filter_argument("date_from")
    date_to = _filter_argument("date_to")
    means_of_attack = _filter_argument("means_of_attack")
    outcome = _filter_argument("outcome")
    stage = _filter_argument("stage")
    status = _filter_argument("status")
    q = _filter_argument("q")

    def load(  # type: ignore[override]
        self, data: Mapping[str, Any], *, unknown: str | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        asked, errors = parse_request(db.session(), data, self.paging)
        problems: Problems = {name: [reason] for name, reason in errors.items()}
        others = {k: data[k] for k in data if k in self.fields and k not in _READ_BY_FILTER}
        rest: dict[str, Any] = {}
        try:
            rest = super().load(others, unknown=ma.EXCLUDE, **kwargs)
        except ma.ValidationError as error:
            problems |= error.messages if isinstance(error.messages, dict) else {}
        if problems:
            raise ma.ValidationError(problems)
        # The documenting fields' defaults in ``rest`` give way to what the filter read.
        return {
            **rest,
            "filters": asked.filters,
            "sort": asked.sort,
            "cursor": asked.cursor,
            "per_page": asked.per_page,
            "exact_total": asked.exact_total,
        }


# What parse_request reads: the filter, the order and the page.
_READ_BY_FILTER = frozenset(FILTER_FIELDS_BY_NAME) | {"sort", "cursor", "per_page", "count"}


def _count() -> fields.String:
    return Text(
        validate=validate.OneOf(("exact",), error=_l("Choose one of the listed values.")),
        metadata={"description": "exact: count beyond 10,000 (the total says more than)."},
    )


def _cursor() -> fields.String:
    return Text(
        validate=at_most(MAX_CURSOR),
        metadata={"description": "The next_cursor of the previous page."},
    )


def _sort() -> fields.String:
    return Text(
        load_default=DEFAULT_SORT,
        validate=validate.OneOf(tuple(SORTS), error=_l("Choose one of the listed values.")),
    )


class IncidentQuery(FilterQuery):
    paging = PAGED
    per_page = per_page_field()
    cursor = _cursor()
    sort = _sort()
    count = _count()


class ExportQuery(FilterQuery):
    paging = SORTED
    sort = _sort()


class GeoQuery(FilterQuery):
    paging = Paging(
        pages=True,
        default_per_page=DEFAULT_GEOJSON_PER_PAGE,
        max_per_page=MAX_GEOJSON_PER_PAGE,
    )
    per_page = per_page_field(MAX_GEOJSON_PER_PAGE, DEFAULT_GEOJSON_PER_PAGE)
    cursor = _cursor()
    count = _count()
