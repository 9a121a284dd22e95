"""The audit trail, for administrators: newest first, filtered, paged by entry id."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from wtforms import DateField, Field, IntegerField, SelectField, StringField
from wtforms.validators import AnyOf, Length, NumberRange, Optional, ValidationError

from auth.access import roles_required
from auth.models import AuditEvent
from capdb import db
from capdb.i18n import current_locale
from capdb.vocabularies import AUDIT_ACTION

bp = Blueprint("audit", __name__, template_folder="templates", url_prefix="/admin/audit")

PER_PAGE = 50
FILTERS = ("action", "actor", "target_type", "target_id", "date_from", "date_to")
# The largest id a database integer holds; SQLite overflows past it instead of comparing.
MAX_ID = 2**63 - 1


def _stripped(value: str | None) -> str | None:
    return value.strip() if value else value


def _printable(_form: FlaskForm, field: Field) -> None:
    # PostgreSQL refuses NUL in text; no actor or target holds a control character.
    if field.data and any(ord(character) < 32 for character in field.data):
        raise ValidationError(_("Control characters are not allowed."))


def _text(label: str, max_length: int) -> StringField:
    return StringField(
        label,
        validators=[Optional(), Length(max=max_length), _printable],
        filters=[_stripped],
    )


# Flask-WTF's base class is untyped.
class TrailFilterForm(FlaskForm):  # type: ignore[misc]
    action = SelectField(
        _l("Action"),
        validate_choice=False,
        validators=[
            Optional(),
            AnyOf(AUDIT_ACTION.codes, message=_l("Choose an action from the list.")),
        ],
    )
    actor = _text(_l("Actor contains"), 254)
    target_type = _text(_l("Target type"), 40)
    target_id = _text(_l("Target id"), 64)
    date_from = DateField(_l("Date from (UTC)"), validators=[Optional()])
    date_to = DateField(_l("Date to (UTC)"), validators=[Optional()])
    before = IntegerField(
        _l("Older than entry"),
        validators=[
            Optional(),
            NumberRange(min=1, max=MAX_ID, message=_l("Not a valid entry number.")),
        ],
    )

    def validate_date_to(self, field: DateField) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_("The end date is before the start date."))


@dataclass(frozen=True)
class TrailFilter:
    action: str | None = None
    actor: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    date_from: date | None = None
    date_to: date | None = None

    def conditions(self) -> list[sa.ColumnElement[bool]]:
        conditions: list[sa.ColumnElement[bool]] = []
        if self.action:
            conditions.append(AuditEvent.action == self.action)
        if self.actor:
            conditions.append(AuditEvent.actor.icontains(self.actor, autoescape=True))
        if self.target_type:
            conditions.append(AuditEvent.target_type == self.target_type)
        if self.target_id:
            conditions.append(AuditEvent.target_id == self.target_id)
        if self.date_from:
            conditions.append(
                AuditEvent.occurred_at >= datetime.combine(self.date_from, time.min, UTC)
            )
        if self.date_to:
            conditions.append(
                AuditEvent.occurred_at <= datetime.combine(self.date_to, time.max, UTC)
            )
        return conditions


def trail_page(
    session: Session, trail_filter: TrailFilter, *, before: int | None = None, size: int = PER_PAGE
) -> tuple[list[AuditEvent], int | None]:
    """One page of entries, newest first, and the id to page on from, if older ones match.

    Keyset paging on the id: one more row than the page tells whether there is a next
    page, so the trail is never counted.
    """
    statement = sa.select(AuditEvent).where(*trail_filter.conditions())
    if before is not None:
        statement = statement.where(AuditEvent.id < before)
    statement = statement.order_by(AuditEvent.id.desc()).limit(size + 1)
    events = list(session.scalars(statement))
    older = events[size - 1].id if len(events) > size else None
    return events[:size], older


@dataclass(frozen=True)
class TrailRow:
    """An entry as the page shows it; the template escapes every part."""

    id: int
    position: int | None  # None: written, not yet linked into the chain
    when: str
    actor: str
    action: str
    target: str
    remote_addr: str
    detail: list[str]


def detail_pairs(detail: object) -> list[str]:
    if not isinstance(detail, dict):
        return [] if detail is None else [_json_text(detail)]
    return [f"{key}={_value_text(value)}" for key, value in sorted(detail.items())]


def _value_text(value: object) -> str:
    return value if isinstance(value, str) else _json_text(value)


def _json_text(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def row_for(event: AuditEvent, locale: str) -> TrailRow:
    action = (
        AUDIT_ACTION.label(event.action, locale) if event.action in AUDIT_ACTION else event.action
    )
    target = " ".join(part for part in (event.target_type, event.target_id) if part)
    return TrailRow(
        id=event.id,
        position=event.position,
        when=event.occurred_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        actor=event.actor,
        action=action,
        target=target,
        remote_addr=event.remote_addr or "",
        detail=detail_pairs(event.detail),
    )


def filter_form(locale: str) -> TrailFilterForm:
    form = TrailFilterForm(formdata=request.args, meta={"csrf": False})
    form.action.choices = [("", _("Any action"))] + [
        (term.code, term.label(locale)) for term in AUDIT_ACTION
    ]
    return form


def trail_filter_of(form: TrailFilterForm) -> TrailFilter:
    return TrailFilter(**{name: form[name].data or None for name in FILTERS})


def page_url(before: int | None) -> str:
    """This page's address with the same filters, from ``before`` (or the newest)."""
    args: dict[str, Any] = {name: request.args[name] for name in FILTERS if request.args.get(name)}
    if before is not None:
        args["before"] = before
    return url_for("audit.index", **args)


@bp.get("/")
@roles_required("admin")
def index() -> str | tuple[str, int]:
    locale = current_locale()
    form = filter_form(locale)
    if not form.validate():
        return render_trail(form, []), 400
    before = form.before.data
    events, older = trail_page(db.session(), trail_filter_of(form), before=before)
    return render_trail(
        form,
        [row_for(event, locale) for event in events],
        older_url=page_url(older) if older is not None else None,
        newest_url=page_url(None) if before is not None else None,
    )


def render_trail(
    form: TrailFilterForm,
    rows: list[TrailRow],
    *,
    older_url: str | None = None,
    newest_url: str | None = None,
) -> str:
    return render_template(
        "auth/audit.html", form=form, rows=rows, older_url=older_url, newest_url=newest_url
    )
