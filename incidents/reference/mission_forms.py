"""The forms of the missions' admin pages. They carry what the admin typed; the rules are
:mod:`incidents.reference.missions`', whose reasons the views put next to the fields."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import Session
from wtforms import DateField, HiddenField, SelectField, TextAreaField
from wtforms.validators import InputRequired, Optional

from capdb.forms import printable, stripped, text
from capdb.reference import ACRONYM_MAX, ALIASES_MAX, NAME_MAX, Country, Mission, host_periods
from capdb.vocabularies import MISSION_KIND
from incidents.errors import InputError
from incidents.reference.missions import MissionInput, read_hosts

HOSTS_HINT = _l(
    "One country a line: its ISO code, then, if it hosted only part of the time, the day it "
    "began and the day it stopped (SSD 2011-07-09)."
)


class MissionForm(FlaskForm):
    code = text(_l("Acronym"), ACRONYM_MAX)
    kind = SelectField(_l("Kind"), validators=[InputRequired()])
    name_en = text(_l("Name in English"), NAME_MAX)
    name_fr = text(_l("Name in French"), NAME_MAX)
    started_on = DateField(_l("Start"), validators=[Optional()])
    ended_on = DateField(_l("End (empty while it operates)"), validators=[Optional()])
    hosts = TextAreaField(
        _l("Host countries"), validators=[printable], filters=[stripped], render_kw={"rows": 4}
    )
    predecessor = SelectField(_l("Predecessor"), validate_choice=False)
    aliases = text(_l("Other acronyms in the UN's data (comma-separated)"), ALIASES_MAX)
    version = HiddenField()
    hosts_hint = HOSTS_HINT

    def fill_choices(self, db: Session, locale: str, *, exclude: str | None = None) -> None:
        self.kind.choices = [(term.code, term.label(locale)) for term in MISSION_KIND]
        codes = db.scalars(select(Mission.code).order_by(Mission.code))
        self.predecessor.choices = [("", "—")] + [(c, c) for c in codes if c != exclude]

    def values(self) -> tuple[MissionInput, dict[str, str]]:
        """What was typed, and what could not even be read (the hosts' lines)."""
        hosts, problem = read_hosts((self.hosts.data or "").splitlines())
        values = MissionInput(
            code=(self.code.data or "").upper(),
            kind=self.kind.data or "",
            name_en=self.name_en.data or "",
            name_fr=self.name_fr.data or "",
            started_on=self.started_on.data,
            ended_on=self.ended_on.data,
            hosts=hosts,
            predecessor=self.predecessor.data or None,
            aliases=tuple(
                dict.fromkeys(
                    a.strip().upper() for a in (self.aliases.data or "").split(",") if a.strip()
                )
            ),
        )
        return values, ({"hosts": problem} if problem else {})

    def show(self, error: InputError) -> None:
        """Put each reason of the service next to its field."""
        for name, reason in error.problems.items():
            field = self[name] if name in self else self.code  # noqa: SIM401 (a form, not a dict)
            field.errors = [*field.errors, reason]

    def expected_version(self) -> int:
        value = (self.version.data or "").strip()
        return int(value) if value.isdigit() else -1

    @staticmethod
    def data_of(mission: Mission) -> dict[str, object]:
        lines = [
            " ".join(str(p) for p in (h.country, h.since, h.until) if p is not None)
            for h in host_periods(mission)
        ]
        return {
            "code": mission.code,
            "kind": mission.kind,
            "name_en": mission.name_en,
            "name_fr": mission.name_fr,
            "started_on": mission.started_on,
            "ended_on": mission.ended_on,
            "hosts": "\n".join(lines),
            "predecessor": mission.predecessor_code or "",
            "aliases": mission.aliases,
            "version": str(mission.version),
        }


class CloseForm(FlaskForm):
    ended_on = DateField(_l("The day it ended"), validators=[InputRequired()])
    version = HiddenField()


class PresenceForm(FlaskForm):
    country = SelectField(_l("Country"), validators=[InputRequired()], validate_choice=False)

    def fill_choices(self, db: Session, locale: str) -> None:
        countries = db.scalars(select(Country).where(Country.kind == "current"))
        named = sorted(countries, key=lambda c: c.name(locale).casefold())
        self.country.choices = [("", "—")] + [(c.code, c.name(locale)) for c in named]
