"""The capability truth table: for every user x record x verb, what the policy answers.

The expected answers are written out below, one row per record and verb, naming the users
allowed; they are not computed by calling the policy. Rows follow the rule of the spec
("Roles and the access rule") over a small world:

- two missions: MINUSMA (hosted by Mali) and MONUSCO (hosted by the DR Congo);
- three States: Mali hosts MINUSMA; Chad contributed the contingent of a soldier hurt in
  Mali; France is the nationality of a civilian hurt in Mali, and prosecutes a case on a
  Congo incident that does not otherwise concern it;
- MINUSMA incidents: validated, draft, submitted, and deleted; a validated MONUSCO one;
- users: an admin, an analyst, two MINUSMA officers (A recorded and submitted, B did not),
  a MONUSCO officer, and the focal points of Mali, Chad and France;
- national cases: Chad's focal point opened a case on the Mali incident (Chad prosecutes
  it), and Mali's added a defendant to Mali's case; both wait, pending, for MINUSMA.

That out-of-scope records answer 404 on every route, pages and API, is swept from the URL
map in tests/api/test_scope_sweep.py; that no route but the public ones answers anonymous
requests, in tests/test_routes.py.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from auth import audit
from auth.models import AuditEvent, User
from capdb.db import utcnow
from incidents import policy
from incidents.models import (
    CapacityAssistance,
    Comment,
    Defendant,
    Incident,
    JudicialCase,
    SavedView,
    StageEvent,
    Victim,
)
from tests.factories import IncidentFactory, UserFactory

USERS = ("admin", "analyst", "officer_a", "officer_b", "monusco", "mali", "chad", "france")
EVERYONE = frozenset(USERS)
ADMIN = frozenset({"admin"})
NOBODY: frozenset[str] = frozenset()
MINUSMA = frozenset({"admin", "officer_a", "officer_b"})
MONUSCO = frozenset({"admin", "monusco"})
SEE_MALI = MINUSMA | {"analyst", "mali", "chad", "france"}
SEE_CONGO = MONUSCO | {"analyst"}


def _(*names: str) -> frozenset[str]:
    return frozenset(names)


# (record, verb): the users the policy allows. "-" is no record (a verb on the user alone).
TABLE: dict[tuple[str, str], frozenset[str]] = {
    # The validated MINUSMA incident in Mali: seen by Mali (host and country), Chad
    # (contributor of a victim), France (nationality of a victim).
    ("validated", "may_view"): SEE_MALI,
    ("validated", "may_edit"): ADMIN,
    ("validated", "may_submit"): NOBODY,
    ("validated", "may_validate"): NOBODY,
    ("validated", "may_return"): MINUSMA,
    ("validated", "may_delete"): MINUSMA,
    ("validated", "may_restore"): MINUSMA,
    ("validated", "may_see_history"): MINUSMA,
    ("validated", "may_open_case"): MINUSMA | {"mali", "chad", "france"},
    ("validated", "may_open_national_case"): _("mali", "chad", "france"),
    ("validated", "may_comment"): MINUSMA | {"mali", "chad", "france"},
    ("validated", "may_export"): SEE_MALI,
    # A MINUSMA draft: its mission only.
    ("draft", "may_view"): MINUSMA,
    ("draft", "may_edit"): MINUSMA,
    ("draft", "may_submit"): MINUSMA,
    ("draft", "may_validate"): NOBODY,
    ("draft", "may_return"): NOBODY,
    ("draft", "may_delete"): MINUSMA,
    ("draft", "may_restore"): MINUSMA,
    ("draft", "may_see_history"): MINUSMA,
    ("draft", "may_open_case"): MINUSMA,
    ("draft", "may_open_national_case"): NOBODY,
    ("draft", "may_comment"): MINUSMA,
    ("draft", "may_export"): MINUSMA,
    # Submitted by officer A: validated by another officer (B) or an admin.
    ("submitted", "may_view"): MINUSMA,
    ("submitted", "may_edit"): ADMIN,
    ("submitted", "may_submit"): NOBODY,
    ("submitted", "may_validate"): _("admin", "officer_b"),
    ("submitted", "may_return"): MINUSMA,
    ("submitted", "may_delete"): MINUSMA,
    ("submitted", "may_restore"): MINUSMA,
    ("submitted", "may_see_history"): MINUSMA,
    ("submitted", "may_open_case"): MINUSMA,
    ("submitted", "may_open_national_case"): NOBODY,
    ("submitted", "may_comment"): MINUSMA,
    ("submitted", "may_export"): MINUSMA,
    # A deleted MINUSMA incident: out of everyone's scope; an admin may bring it back.
    ("deleted", "may_view"): NOBODY,
    ("deleted", "may_edit"): NOBODY,
    ("deleted", "may_submit"): NOBODY,
    ("deleted", "may_validate"): NOBODY,
    ("deleted", "may_return"): NOBODY,
    ("deleted", "may_delete"): NOBODY,
    ("deleted", "may_restore"): ADMIN,
    ("deleted", "may_see_history"): NOBODY,
    ("deleted", "may_open_case"): NOBODY,
    ("deleted", "may_open_national_case"): NOBODY,
    ("deleted", "may_comment"): NOBODY,
    ("deleted", "may_export"): NOBODY,
    # The validated MONUSCO incident in the DR Congo: no State of the world is concerned.
    ("congo", "may_view"): SEE_CONGO,
    ("congo", "may_edit"): ADMIN,
    ("congo", "may_submit"): NOBODY,
    ("congo", "may_validate"): NOBODY,
    ("congo", "may_return"): MONUSCO,
    ("congo", "may_delete"): MONUSCO,
    ("congo", "may_restore"): MONUSCO,
    ("congo", "may_see_history"): MONUSCO,
    ("congo", "may_open_case"): MONUSCO,
    ("congo", "may_open_national_case"): NOBODY,
    ("congo", "may_comment"): MONUSCO,
    ("congo", "may_export"): SEE_CONGO,
    # Victims of the Mali incident: names for its mission, admins and the victim's State.
    ("soldier", "may_view"): SEE_MALI,
    ("soldier", "may_edit_victim"): ADMIN,
    ("soldier", "may_delete"): ADMIN,
    ("soldier", "sees_victim_identity"): MINUSMA | {"chad"},
    ("civilian", "may_view"): SEE_MALI,
    ("civilian", "may_edit_victim"): ADMIN,
    ("civilian", "sees_victim_identity"): MINUSMA | {"france"},
    ("draft_victim", "may_edit_victim"): MINUSMA,
    ("draft_victim", "may_delete"): MINUSMA,
    ("draft_victim", "sees_victim_identity"): MINUSMA,
    # The case on the Mali incident, prosecuted by Mali.
    ("mali_case", "may_view"): SEE_MALI,
    ("mali_case", "may_edit_case"): MINUSMA,
    ("mali_case", "may_add_defendant"): MINUSMA | {"mali"},
    ("mali_case", "may_validate_case"): NOBODY,
    ("mali_case", "keeps_case"): MINUSMA,
    ("mali_case", "prosecutes"): _("mali"),
    ("mali_case", "may_report_progress"): MINUSMA | {"mali"},
    ("mali_case", "sees_defendant_identity"): MINUSMA | {"mali"},
    ("mali_case", "may_comment"): MINUSMA | {"mali", "chad", "france"},
    ("mali_case", "may_delete"): MINUSMA,
    ("mali_case", "may_restore"): MINUSMA,
    ("mali_case", "may_export"): SEE_MALI,
    # The case on the Congo incident, prosecuted by France, which sees it for that alone.
    ("congo_case", "may_view"): SEE_CONGO | {"france"},
    ("congo_case", "may_edit_case"): MONUSCO,
    ("congo_case", "may_add_defendant"): MONUSCO | {"france"},
    ("congo_case", "may_report_progress"): MONUSCO | {"france"},
    ("congo_case", "sees_defendant_identity"): MONUSCO | {"france"},
    ("congo_case", "may_comment"): MONUSCO | {"france"},
    ("congo_case", "may_export"): SEE_CONGO | {"france"},
    ("congo_defendant", "may_view"): SEE_CONGO | {"france"},
    ("congo_defendant", "may_edit_defendant"): MONUSCO,
    ("congo_defendant", "may_validate_defendant"): NOBODY,
    # Chad's national case on the Mali incident, pending: seen by MINUSMA, which validates
    # it, and by Chad, which prosecutes it; nobody else sees or counts it yet.
    ("national_case", "may_view"): MINUSMA | {"chad"},
    ("national_case", "may_validate_case"): MINUSMA,
    ("national_case", "may_edit_case"): MINUSMA,
    ("national_case", "may_add_defendant"): MINUSMA | {"chad"},
    ("national_case", "may_report_progress"): MINUSMA | {"chad"},
    ("national_case", "sees_defendant_identity"): MINUSMA | {"chad"},
    ("national_case", "may_comment"): MINUSMA | {"chad"},
    ("national_case", "may_export"): MINUSMA | {"chad"},
    ("national_case", "enters_pending"): EVERYONE - MINUSMA,
    # Mali's pending defendant on Mali's case: MINUSMA and Mali only, until validated.
    ("national_defendant", "may_view"): MINUSMA | {"mali"},
    ("national_defendant", "may_validate_defendant"): MINUSMA,
    ("national_defendant", "may_edit_defendant"): MINUSMA,
    # France's pending update on its case: seen by those who keep or report on the case.
    ("pending_update", "may_view"): MONUSCO | {"france"},
    ("pending_update", "may_validate_update"): MONUSCO,
    ("pending_update", "may_delete"): MONUSCO,
    ("validated_event", "may_view"): SEE_MALI,
    ("validated_event", "may_validate_update"): NOBODY,
    ("validated_event", "may_delete"): MINUSMA,
    # MINUSMA's assistance to Mali.
    ("assistance", "may_view"): MINUSMA | {"analyst", "mali"},
    ("assistance", "may_edit_assistance"): MINUSMA,
    ("assistance", "may_delete"): MINUSMA,
    # Requests for clarification on the Mali incident: the other side answers, in a thread
    # it reads. Mali's (in Mali's thread) is the mission's to answer; the mission's (to
    # every reader) is answered by any State that may comment on the incident.
    ("mali_request", "may_answer"): MINUSMA,
    ("mission_request", "may_answer"): _("mali", "chad", "france"),
    ("mali_comment", "may_answer"): NOBODY,
    # Other users' mail addresses: UN staff and the person themself see them.
    ("officer_a_account", "sees_address"): MINUSMA | {"monusco"},
    ("france_account", "sees_address"): MINUSMA | {"monusco", "france"},
    # Verbs on the user alone.
    ("-", "may_record_incidents"): MINUSMA | {"monusco"},
    ("-", "may_record_assistance"): MINUSMA | {"monusco"},
    ("-", "may_export"): EVERYONE,
    ("-", "sees_deleted"): ADMIN,
    ("-", "sees_unvalidated"): MINUSMA | {"monusco"},
    # Saved views: analysts share theirs with analysts; the owner alone removes one.
    ("-", "may_share_views"): _("analyst"),
    ("analyst_view", "may_delete_view"): _("analyst"),
}


@dataclass
class Small:
    users: dict[str, User]
    records: dict[str, Any]


def _incidents(make_incident: IncidentFactory, author: User) -> dict[str, Incident]:
    mali = make_incident(status="validated", created_by_id=author.id)
    draft = make_incident(status="draft", created_by_id=author.id)
    submitted = make_incident(
        status="submitted", created_by_id=author.id, submitted_by_id=author.id
    )
    deleted = make_incident(status="validated", deleted_at=utcnow())
    congo = make_incident(
        reference="MONUSCO-2022-0001",
        mission_code="MONUSCO",
        country_code="COD",
        place="Beni",
        latitude=0.49,
        longitude=29.47,
    )
    return {
        "validated": mali,
        "draft": draft,
        "submitted": submitted,
        "deleted": deleted,
        "congo": congo,
    }


def _victims(db: Session, mali: Incident, draft: Incident) -> dict[str, Victim]:
    common = {"outcome": "injured", "sex": "male"}
    victims = {
        "soldier": Victim(
            incident=mali,
            category="contingent_military",
            nationality_code="NER",
            contributing_country_code="TCD",
            name="Soldier A",
            **common,
        ),
        "civilian": Victim(
            incident=mali, category="international_civilian", nationality_code="FRA", **common
        ),
        "draft_victim": Victim(
            incident=draft, category="contingent_military", nationality_code="NER", **common
        ),
    }
    db.add_all(victims.values())
    db.flush()
    return victims


def _justice(db: Session, mali: Incident, congo: Incident, france: User) -> dict[str, Any]:
    mali_case = JudicialCase(
        prosecuting_state_code="MLI", jurisdiction="ordinary", incidents=[mali]
    )
    congo_case = JudicialCase(
        prosecuting_state_code="FRA", jurisdiction="ordinary", incidents=[congo]
    )
    db.add_all([mali_case, congo_case])
    db.flush()
    records: dict[str, Any] = {
        "mali_case": mali_case,
        "congo_case": congo_case,
        "congo_defendant": Defendant(case_id=congo_case.id, alias="Commander Y"),
        "pending_update": StageEvent(
            case_id=congo_case.id,
            stage="reported",
            occurred_on=date(2022, 1, 2),
            review_status="pending",
            entered_by_id=france.id,
        ),
        "validated_event": StageEvent(
            case_id=mali_case.id, stage="investigation_opened", occurred_on=date(2021, 4, 1)
        ),
        "assistance": CapacityAssistance(
            recipient_state_code="MLI",
            mission_code="MINUSMA",
            kind="training",
            started_on=date(2022, 2, 1),
        ),
    }
    db.add_all(list(records.values())[2:])
    db.flush()
    return records


@pytest.fixture
def small(db: Session, make_user: UserFactory, make_incident: IncidentFactory) -> Small:
    users = {
        "admin": make_user("admin"),
        "analyst": make_user("analyst"),
        "officer_a": make_user("mission", missions=("MINUSMA",)),
        "officer_b": make_user("mission", missions=("MINUSMA",)),
        "monusco": make_user("mission", missions=("MONUSCO",)),
        "mali": make_user("member_state", state="MLI"),
        "chad": make_user("member_state", state="TCD"),
        "france": make_user("member_state", state="FRA"),
    }
    incidents = _incidents(make_incident, users["officer_a"])
    records: dict[str, Any] = {**incidents, "-": None}
    records |= {"officer_a_account": users["officer_a"], "france_account": users["france"]}
    records |= _victims(db, incidents["validated"], incidents["draft"])
    records |= _justice(db, incidents["validated"], incidents["congo"], users["france"])
    records |= _comments(db, incidents["validated"], users["mali"], users["officer_a"])
    records |= _national(db, incidents["validated"], records["mali_case"], users)
    records["analyst_view"] = SavedView(
        owner_id=users["analyst"].id, page="list", name="Mali", query={"state": "MLI"}, shared=True
    )
    db.add(records["analyst_view"])
    db.flush()
    return Small(users, records)


def _national(
    db: Session, mali: Incident, mali_case: JudicialCase, users: dict[str, User]
) -> dict[str, Any]:
    national_case = JudicialCase(
        prosecuting_state_code="TCD",
        jurisdiction="military",
        incidents=[mali],
        review_status="pending",
        created_by_id=users["chad"].id,
    )
    national_defendant = Defendant(
        case_id=mali_case.id,
        alias="Suspect Z",
        review_status="pending",
        created_by_id=users["mali"].id,
    )
    db.add_all([national_case, national_defendant])
    db.flush()
    return {"national_case": national_case, "national_defendant": national_defendant}


def _comments(db: Session, mali: Incident, focal_point: User, officer: User) -> dict[str, Any]:
    on_mali = {"incident_id": mali.id}
    comments = {
        "mali_request": Comment(
            author_id=focal_point.id,
            kind="clarification_request",
            body="Which unit?",
            thread_state_code="MLI",
            **on_mali,
        ),
        "mission_request": Comment(
            author_id=officer.id, kind="clarification_request", body="Any witness?", **on_mali
        ),
        "mali_comment": Comment(
            author_id=focal_point.id,
            kind="comment",
            body="Noted.",
            thread_state_code="MLI",
            **on_mali,
        ),
    }
    db.add_all(comments.values())
    db.flush()
    return comments


def answer(verb: str, user: User, record: Any) -> bool:
    check = getattr(policy, verb)
    return bool(check(user) if record is None else check(user, record))


ROWS = [pytest.param(record, verb, id=f"{record}.{verb}") for record, verb in sorted(TABLE)]


@pytest.mark.parametrize(("record", "verb"), ROWS)
def test_truth_table(small: Small, record: str, verb: str) -> None:
    allowed = {
        name for name, user in small.users.items() if answer(verb, user, small.records[record])
    }
    assert allowed == TABLE[record, verb]


def test_the_table_covers_every_verb_and_every_record(small: Small) -> None:
    verbs = {verb for _record, verb in TABLE}
    assert {name for name in dir(policy) if name.startswith(("may_", "sees_"))} <= verbs
    assert {record for record, _verb in TABLE} == set(small.records)
    assert set(small.users) == set(USERS)


# The missions whose records each user keeps, and whose incidents it may look for; None
# stands for every mission.
MISSIONS: dict[str, tuple[frozenset[str] | None, frozenset[str] | None]] = {
    "admin": (None, None),
    "analyst": (frozenset(), None),
    "officer_a": (_("MINUSMA"), _("MINUSMA")),
    "officer_b": (_("MINUSMA"), _("MINUSMA")),
    "monusco": (_("MONUSCO"), _("MONUSCO")),
    "mali": (frozenset(), None),
    "chad": (frozenset(), None),
    "france": (frozenset(), None),
}


def test_missions_kept_and_seen(small: Small) -> None:
    answers = {
        name: (policy.missions_kept(user), policy.missions_seen(user))
        for name, user in small.users.items()
    }
    assert answers == MISSIONS


def test_an_error_inside_the_policy_denies(
    small: Small, db: Session, caplog: pytest.LogCaptureFixture
) -> None:
    admin, victim = small.users["admin"], small.records["soldier"]
    with caplog.at_level(logging.ERROR, logger="incidents.policy"):
        # A verb asked about the wrong kind of record fails inside: it denies, logged.
        assert policy.may_validate(admin, victim) is False
        assert policy.may_view(admin, object()) is False
    assert len([r for r in caplog.records if "denying" in r.getMessage()]) == 2
    broken = object()  # no role, no missions: the rule cannot be computed
    with caplog.at_level(logging.ERROR, logger="incidents.visibility"):
        condition = policy.visible_incidents(broken)  # type: ignore[arg-type]
    assert str(condition) == "false"
    assert db.scalars(policy.visible_events(admin, small.records["mali_case"])).all() == [
        small.records["validated_event"]
    ]


def _allowed_by(db: Session, small: Small, model: Any, record_id: int, condition: Any) -> set[str]:
    return {
        name
        for name, user in small.users.items()
        if db.scalar(sa.select(sa.exists().where(model.id == record_id, condition(user))))
    }


# Who reads each comment on the Mali incident: threads belong to the State that opened them
# and the mission; HQ analysts read none.
READS = {
    "mali_request": _("admin", "officer_a", "officer_b", "monusco", "mali"),
    "mission_request": _("admin", "officer_a", "officer_b", "monusco", "mali", "chad", "france"),
}


@pytest.mark.parametrize("comment", sorted(READS))
def test_who_reads_a_comment(small: Small, db: Session, comment: str) -> None:
    record = small.records[comment]
    assert _allowed_by(db, small, Comment, record.id, policy.visible_comments) == READS[comment]


def test_audit_entries_in_sql(small: Small, db: Session) -> None:
    """Own entries for everyone, all for admins and the record's keepers, in the query."""
    incident = small.records["validated"]
    for name in ("mali", "officer_a"):
        audit.record(db, "view", user=small.users[name], target=incident)
    db.flush()
    entries = sa.select(AuditEvent.user_id).where(
        AuditEvent.target_type == "incidents", AuditEvent.target_id == str(incident.id)
    )
    ids = {user.id: name for name, user in small.users.items()}
    seen = {}
    for name, user in small.users.items():
        keeps = policy.keeps_record_of(user, incident)
        condition = policy.visible_audit_entries(user, keeps_record=keeps)
        seen[name] = {ids[i] for i in db.scalars(entries.where(condition)) if i is not None}
    both = {"mali", "officer_a"}
    assert seen == {
        "admin": both, "analyst": set(), "officer_a": both, "officer_b": both,
        "monusco": set(), "mali": {"mali"}, "chad": set(), "france": set(),
    }  # fmt: skip
