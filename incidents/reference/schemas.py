"""What the API takes and gives for missions."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask_babel import lazy_gettext as _l
from marshmallow import fields, validate

from capdb.db import MAX_ID
from capdb.reference import (
    ACRONYM,
    ACRONYM_MAX,
    NAME_MAX,
    STATES,
    HostPeriod,
    Mission,
    host_periods,
)
from capdb.vocabularies import MISSION_KIND
from incidents.api.schemas import (
    Code,
    Schema,
    Text,
    at_most,
    country_field,
    listing,
    version_field,
    vocabulary_field,
)
from incidents.filters import country_codes


def acronym(**kwargs: Any) -> Code:
    return Code(
        validate=[
            at_most(ACRONYM_MAX),
            validate.Regexp(
                ACRONYM, error=_l("An acronym is capital letters and digits, words apart.")
            ),
        ],
        metadata={"description": "The mission's acronym, such as MINUSMA or UNEF I."},
        **kwargs,
    )


class HostSchema(Schema):
    country = country_field(required=True)
    since = fields.Date(load_default=None, allow_none=True)
    until = fields.Date(load_default=None, allow_none=True)

    @ma.post_load
    def _period(self, data: dict[str, Any], **_kwargs: Any) -> HostPeriod:
        return HostPeriod(data["country"], data["since"], data["until"])


def _name(**kwargs: Any) -> Text:
    return Text(validate=[validate.Length(min=1), at_most(NAME_MAX)], **kwargs)


class MissionChange(Schema):
    """The fields an admin changes; left out, they keep their value."""

    kind = vocabulary_field(MISSION_KIND)
    name_en = _name()
    name_fr = _name()
    started_on = fields.Date()
    ended_on = fields.Date(allow_none=True)
    hosts = fields.List(fields.Nested(HostSchema), validate=validate.Length(min=1, max=20))
    predecessor = acronym(allow_none=True)
    aliases = fields.List(acronym(), validate=validate.Length(max=10))


class MissionInputSchema(MissionChange):
    code = acronym(required=True)
    kind = vocabulary_field(MISSION_KIND, required=True)
    name_en = _name(required=True)
    name_fr = _name(required=True)
    started_on = fields.Date(required=True)
    ended_on = fields.Date(load_default=None, allow_none=True)
    hosts = fields.List(
        fields.Nested(HostSchema), required=True, validate=validate.Length(min=1, max=20)
    )
    predecessor = acronym(load_default=None, allow_none=True)
    aliases = fields.List(acronym(), load_default=list, validate=validate.Length(max=10))


class MissionPatch(MissionChange):
    version = version_field()


class CloseInput(Schema):
    version = version_field()
    ended_on = fields.Date(required=True, metadata={"description": "The day it ended."})


class DeleteQuery(Schema):
    version = fields.Integer(
        required=True,
        validate=validate.Range(min=1, max=MAX_ID, error=_l("This is not a valid version.")),
        metadata={"description": "The version of the mission the deletion was decided on."},
    )


class PresenceInput(Schema):
    country = country_field(STATES, required=True)


class HostServed(Schema):
    country = listing(fields.String(required=True), country_codes)
    since = fields.Date(required=True, allow_none=True)
    until = fields.Date(required=True, allow_none=True)


class MissionSchema(Schema):
    code = fields.String(required=True)
    kind = vocabulary_field(MISSION_KIND, required=True)
    name_en = fields.String(required=True)
    name_fr = fields.String(required=True)
    started_on = fields.Date(required=True)
    ended_on = fields.Date(required=True, allow_none=True)
    closed = fields.Boolean(required=True)
    hosts = fields.List(fields.Nested(HostServed), required=True)
    predecessor = fields.String(required=True, allow_none=True)
    successors = fields.List(fields.String(), required=True)
    aliases = fields.List(fields.String(), required=True)
    version = fields.Integer(required=True)


class MissionList(Schema):
    items = fields.List(fields.Nested(MissionSchema), required=True)


class MissionQuery(Schema):
    kind = vocabulary_field(MISSION_KIND, load_default=None)
    open = fields.Boolean(
        load_default=None, metadata={"description": "Only open (true) or closed (false) ones."}
    )


class MissionVersionSchema(Schema):
    version = fields.Integer(required=True)
    replaced_at = fields.DateTime(required=True)
    data = fields.Dict(required=True)


class MissionHistory(Schema):
    items = fields.List(fields.Nested(MissionVersionSchema), required=True)


def served(mission: Mission, successors: list[str]) -> dict[str, Any]:
    return {
        "code": mission.code,
        "kind": mission.kind,
        "name_en": mission.name_en,
        "name_fr": mission.name_fr,
        "started_on": mission.started_on,
        "ended_on": mission.ended_on,
        "closed": mission.is_closed,
        "hosts": [
            {"country": h.country, "since": h.since, "until": h.until}
            for h in host_periods(mission)
        ],
        "predecessor": mission.predecessor_code,
        "successors": successors,
        "aliases": list(mission.alias_list),
        "version": mission.version,
    }
