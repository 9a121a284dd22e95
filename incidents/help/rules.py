"""Who may see and do what, for the help pages: asked of the access rule itself, so that the
help cannot say anything the policy does not do.

The policy's verbs are asked about a small sample world (one mission hosted by Mali, its
incidents, a Chadian victim and a Malian one, a case Mali prosecutes, a case Mali's focal
point opened), held in a private in-memory SQLite database built once per process: the
verbs that read the database (what one may see, a State's national case) run their own SQL
there. The application's database is never touched.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from auth.models import User
from capdb.db import Base
from capdb.reference import Country, Mission, MissionHost
from incidents import policy
from incidents.models import Incident, JudicialCase, Victim

ROLES = ("mission", "member_state", "analyst", "admin")
YES, NO, PENDING = "yes", "no", "pending"


@dataclass(frozen=True)
class Rule:
    """One line of the table: what is asked, and how to ask the policy for a user."""

    question: Any
    answer: Callable[[User, dict[str, Any]], str]


def _yes(allowed: bool) -> str:
    return YES if allowed else NO


def _entered(allowed: bool, user: User, case: JudicialCase) -> str:
    """Allowed at once, allowed pending the mission's validation, or not at all."""
    if not allowed:
        return NO
    return PENDING if policy.enters_pending(user, case) else YES


RULES: tuple[Rule, ...] = (
    Rule(_l("See validated incidents (a focal point: those concerning its State)"),
         lambda u, w: _yes(policy.may_view(u, w["validated"]))),
    Rule(_l("See drafts and submitted incidents of the mission"),
         lambda u, w: _yes(policy.may_view(u, w["draft"]))),
    Rule(_l("Record and edit incidents (drafts), submit them"),
         lambda u, w: _yes(policy.may_edit(u, w["draft"]) and policy.may_submit(u, w["draft"]))),
    Rule(_l("Validate an incident another officer submitted"),
         lambda u, w: _yes(policy.may_validate(u, w["submitted"]))),
    Rule(_l("Return an incident to draft, with a reason"),
         lambda u, w: _yes(policy.may_return(u, w["submitted"]))),
    Rule(_l("See the names of victims of one's own State"),
         lambda u, w: _yes(policy.sees_victim_identity(u, w["own_national"]))),
    Rule(_l("See the names of other victims"),
         lambda u, w: _yes(policy.sees_victim_identity(u, w["other_national"]))),
    Rule(_l("Open a judicial case on an incident"),
         lambda u, w: _entered(policy.may_open_case(u, w["validated"]), u, w["case"])),
    Rule(_l("Add a defendant (a focal point: to a case its State prosecutes)"),
         lambda u, w: _entered(policy.may_add_defendant(u, w["case"]), u, w["case"])),
    Rule(_l("Report a case's progress: its stages (a focal point: of a case its State prosecutes)"),
         lambda u, w: _entered(policy.may_report_progress(u, w["case"]), u, w["case"])),
    Rule(_l("See who the defendants are (a focal point: of a case its State prosecutes)"),
         lambda u, w: _yes(policy.sees_defendant_identity(u, w["case"]))),
    Rule(_l("Validate or reject what a Member State entered"),
         lambda u, w: _yes(policy.may_validate_case(u, w["pending_case"]))),
    Rule(_l("Comment and ask the other side for clarification"),
         lambda u, w: _yes(policy.may_comment(u, w["validated"]))),
    Rule(_l("Download what one sees (lists, maps, charts, dossiers)"),
         lambda u, w: _yes(policy.may_export(u))),
    Rule(_l("Share saved views with the analysts"),
         lambda u, w: _yes(policy.may_share_views(u))),
)  # fmt: skip


def _world(db: Session) -> tuple[dict[str, User], dict[str, Any]]:
    mali = Country(code="MLI", name_en="Mali", name_fr="Mali")
    chad = Country(code="TCD", name_en="Chad", name_fr="Tchad")
    mission = Mission(code="MINUSMA", name_en="MINUSMA", name_fr="MINUSMA",
                      started_on=date(2013, 4, 25),
                      host_periods=[MissionHost(country=mali)])  # fmt: skip
    db.add_all([mali, chad, mission])
    users = {
        "mission": User(email="officer@help", role="mission", missions=[mission]),
        "member_state": User(email="focal@help", role="member_state", state_code="MLI"),
        "analyst": User(email="analyst@help", role="analyst"),
        "admin": User(email="admin@help", role="admin"),
    }
    author = User(email="author@help", role="mission", missions=[mission])
    for user in [*users.values(), author]:
        user.password_hash = "-"  # noqa: S105 (never used: no one signs in here)
    db.add_all([*users.values(), author])
    db.flush()

    def incident(reference: str, status: str) -> Incident:
        return Incident(
            reference=reference, mission_code="MINUSMA", occurred_on=date(2021, 6, 15),
            date_precision="day", country_code="MLI", place="Gao", geo_precision="country",
            means_of_attack="ied", attack_context="convoy", location_type="road",
            perpetrator_type="unknown", status=status, created_by_id=author.id,
            submitted_by_id=author.id if status == "submitted" else None,
        )  # fmt: skip

    records: dict[str, Any] = {
        "validated": incident("H-1", "validated"),
        "draft": incident("H-2", "draft"),
        "submitted": incident("H-3", "submitted"),
    }
    db.add_all(records.values())
    db.flush()
    victim = {"incident": records["validated"], "category": "contingent_military",
              "outcome": "injured", "sex": "male"}  # fmt: skip
    records["own_national"] = Victim(nationality_code="MLI", **victim)
    records["other_national"] = Victim(nationality_code="TCD", **victim)
    records["case"] = JudicialCase(prosecuting_state_code="MLI", jurisdiction="ordinary",
                                   incidents=[records["validated"]])  # fmt: skip
    records["pending_case"] = JudicialCase(
        prosecuting_state_code="MLI", jurisdiction="ordinary", review_status="pending",
        incidents=[records["validated"]], created_by_id=users["member_state"].id,
    )  # fmt: skip
    db.add_all([records[k] for k in ("own_national", "other_national", "case", "pending_case")])
    db.flush()
    return users, records


_lock = threading.Lock()


@cache
def answers() -> dict[int, dict[str, str]]:
    """For each rule (by its place in :data:`RULES`), the answer for each role."""
    with _lock:
        engine = sa.create_engine("sqlite://")
        try:
            Base.metadata.create_all(engine)
            with Session(engine) as db:
                users, world = _world(db)
                return {
                    number: {role: rule.answer(users[role], world) for role in ROLES}
                    for number, rule in enumerate(RULES)
                }
        finally:
            engine.dispose()


def table() -> list[tuple[Any, dict[str, str]]]:
    """The rules' questions (translated when shown), each with every role's answer."""
    found = answers()
    return [(rule.question, found[number]) for number, rule in enumerate(RULES)]
