"""Judicial cases: who opens them, what the form refuses, what the case page shows to whom,
the stages derived from the events, and the durations computed from them.

The incident of these tests is a validated MINUSMA incident in Mali (the host State) of
14 March 2021, with a Chadian contingent soldier among its victims.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from auth.models import AuditEvent, User
from capdb.db import utcnow
from incidents.errors import InputError, NotAllowedError
from incidents.justice import case_pages, cases, stages
from incidents.justice.stages import EventFields
from incidents.models import (
    Defendant,
    Incident,
    JudicialCase,
    RecordVersion,
    StageEvent,
    case_incidents,
)
from tests.factories import IncidentFactory, LoginAs, UserFactory, VictimFactory
from tests.test_i18n import csrf_token

INCIDENT_DAY = date(2021, 3, 14)


# Helpers the other case tests share ---------------------------------------------------------


def post_form(
    client: FlaskClient, page: str, data: dict[str, Any], action: str | None = None
) -> TestResponse:
    """Post the form of ``page`` (to ``action``, or back to the page) with its CSRF token."""
    token = csrf_token(client.get(page).text)
    return client.post(action or page, data={**data, "csrf_token": token})


def new_case(db: Session, *incidents: Incident, state: str = "MLI", **values: Any) -> JudicialCase:
    case = JudicialCase(
        prosecuting_state_code=state,
        jurisdiction=values.pop("jurisdiction", "ordinary"),
        incidents=list(incidents),
        **values,
    )
    db.add(case)
    db.flush()
    return case


def new_defendant(db: Session, case: JudicialCase, **values: Any) -> Defendant:
    defendant = Defendant(case_id=case.id, **({"alias": "Abou Zeid"} | values))
    db.add(defendant)
    db.flush()
    return defendant


def new_event(
    db: Session,
    case: JudicialCase,
    stage: str,
    on: date,
    *,
    defendant: Defendant | None = None,
    status: str = "validated",
    note: str = "",
) -> StageEvent:
    """An event written straight to the table, as if entered earlier; stages not derived."""
    event = StageEvent(
        case_id=case.id,
        defendant_id=defendant.id if defendant else None,
        stage=stage,
        occurred_on=on,
        review_status=status,
        note=note,
    )
    db.add(event)
    db.flush()
    return event


def count(db: Session, model: Any) -> int:
    return db.scalar(sa.select(sa.func.count()).select_from(model)) or 0


@pytest.fixture
def incident(make_incident: IncidentFactory, make_victim: VictimFactory) -> Incident:
    incident = make_incident(occurred_on=INCIDENT_DAY)
    make_victim(incident)
    return incident


@pytest.fixture
def officer(login_as: LoginAs) -> User:
    return login_as("mission", missions=("MINUSMA",))


# Opening a case ------------------------------------------------------------------------------


def open_form(incident: Incident) -> str:
    return f"/cases/new?incident={incident.id}"


def valid_case(**overrides: str) -> dict[str, str]:
    return {
        "prosecuting_state": "MLI",
        "jurisdiction": "ordinary",
        "national_reference": "RP-2021/117",
        "charges": "Murder of peacekeepers; terrorism",
        "other_incidents": "",
    } | overrides


def test_a_mission_officer_opens_a_case_on_its_incident(
    client: FlaskClient, db: Session, incident: Incident, officer: User, make_incident: Any
) -> None:
    second = make_incident(occurred_on=date(2021, 3, 20))
    form = client.get(open_form(incident))
    assert form.status_code == 200
    assert '<option selected value="MLI">' in form.text  # the incident's country by default
    response = post_form(
        client, open_form(incident), valid_case(other_incidents=second.reference.lower())
    )
    assert response.status_code == 302
    case = db.scalars(sa.select(JudicialCase)).one()
    assert response.location == f"/cases/{case.id}"
    assert (case.prosecuting_state_code, case.jurisdiction) == ("MLI", "ordinary")
    assert case.national_reference == "RP-2021/117"
    assert {i.id for i in case.incidents} == {incident.id, second.id}
    assert case.created_by_id == officer.id
    audited = db.scalar(
        sa.select(AuditEvent).where(
            AuditEvent.action == "create", AuditEvent.target_type == "judicial_cases"
        )
    )
    assert audited is not None
    assert audited.target_id == str(case.id)
    assert audited.user_id == officer.id


@pytest.mark.parametrize(
    ("role", "bindings", "status"),
    [
        ("admin", {}, 200),
        ("mission", {"missions": ("MONUSCO",)}, 404),  # cannot see the incident
        ("analyst", {}, 403),
        ("member_state", {"state": "MLI"}, 200),  # a national case, Mali prosecuting it
        ("member_state", {"state": "BRA"}, 404),  # the incident does not concern Brazil
    ],
)
def test_who_may_open_a_case(
    client: FlaskClient,
    db: Session,
    incident: Incident,
    login_as: LoginAs,
    role: str,
    bindings: dict[str, Any],
    status: int,
) -> None:
    login_as(role, **bindings)
    assert client.get(open_form(incident)).status_code == status
    token = csrf_token(client.get("/assistance/").text)
    response = client.post(open_form(incident), data={**valid_case(), "csrf_token": token})
    assert response.status_code == (302 if status == 200 else status)
    assert count(db, JudicialCase) == (1 if status == 200 else 0)


def test_every_invalid_field_is_named_and_nothing_is_saved(
    client: FlaskClient, db: Session, incident: Incident, officer: User
) -> None:
    response = post_form(
        client,
        open_form(incident),
        valid_case(
            prosecuting_state="ZZZ",
            jurisdiction="",
            national_reference="R" * 121,
            charges="ok\x00",
            other_incidents="MINUSMA-1999-0001",
        ),
    )
    assert response.status_code == 422
    page = response.text
    for name in ("prosecuting_state", "jurisdiction", "national_reference", "charges"):
        assert f'id="{name}-error"' in page, name
    assert "No incident you can see has the reference MINUSMA-1999-0001." in page
    assert count(db, JudicialCase) == 0
    assert count(db, case_incidents) == 0


@pytest.mark.parametrize("typed", ["ABC\x00", "MINUSMA-2021-0001 X\x00Y", "A\x7fB"])
def test_references_with_control_characters_are_refused_on_the_field(
    client: FlaskClient, db: Session, incident: Incident, officer: User, typed: str
) -> None:
    case = new_case(db, incident, charges="first")
    opened = post_form(client, open_form(incident), valid_case(other_incidents=typed))
    form_page = client.get(f"/cases/{case.id}/edit").text
    edited = client.post(
        f"/cases/{case.id}/edit",
        data={
            **valid_case(charges="mine", other_incidents=typed),
            "version": "1",
            "csrf_token": csrf_token(form_page),
        },
    )
    for response in (opened, edited):
        assert response.status_code == 422
        assert 'id="other_incidents-error"' in response.text
    assert count(db, JudicialCase) == 1
    db.refresh(case)
    assert (case.charges, case.version) == ("first", 1)


def test_parse_references_refuses_what_is_not_printable() -> None:
    assert cases.parse_references("abc-1, ABC-1;def-2") == ["ABC-1", "DEF-2"]
    for typed in ("ABC\x00", "x\x01", "a\u200bb", "\ud800"):
        with pytest.raises(InputError) as refused:
            cases.parse_references(f"OK-1 {typed}")
        assert set(refused.value.problems) == {"other_incidents"}


def test_an_incident_of_another_mission_cannot_be_linked(
    client: FlaskClient, db: Session, incident: Incident, officer: User, make_incident: Any
) -> None:
    elsewhere = make_incident(mission_code="MONUSCO", country_code="COD", reference="MONUSCO-1")
    response = post_form(
        client, open_form(incident), valid_case(other_incidents=elsewhere.reference)
    )
    assert response.status_code == 422
    # The same answer as for a reference that does not exist: nothing tells them apart.
    assert "No incident you can see has the reference MONUSCO-1." in response.text
    assert count(db, JudicialCase) == 0


# The case page ------------------------------------------------------------------------------


def test_the_case_page_shows_the_case_and_its_derived_stages(
    client: FlaskClient, db: Session, incident: Incident, officer: User
) -> None:
    case = new_case(db, incident, national_reference="RP-7", charges="Attack on a convoy")
    accused = new_defendant(db, case, alias="Abou Zeid", affiliation="JNIM", verdict="guilty")
    new_event(db, case, "investigation_opened", date(2021, 4, 1))
    new_event(db, case, "arrested", date(2021, 5, 1), defendant=accused)
    stages.recompute_stages(db, case)
    page = client.get(f"/cases/{case.id}").text
    assert f'href="/incidents/{incident.id}"' in page
    for shown in ("Mali", "Ordinary court", "RP-7", "Attack on a convoy", "JNIM", "guilty"):
        assert shown in page
    # The case's stage is its latest event; the defendant's, its own latest event.
    assert "<dt>Current stage</dt><dd>Arrested or detained</dd>" in page
    assert "<td>Arrested or detained</td>" in page
    # Days from the incident (14 March 2021) to each event, counted by hand.
    assert "<td>18</td>" in page  # 1 April 2021
    assert "<td>48</td>" in page  # 1 May 2021


def test_a_case_panel_on_the_incident_page(
    client: FlaskClient, db: Session, incident: Incident, login_as: LoginAs
) -> None:
    case = new_case(db, incident, national_reference="RP-9")
    new_event(db, case, "charged", date(2021, 6, 1))
    stages.recompute_stages(db, case)
    login_as("mission", missions=("MINUSMA",))
    page = client.get(f"/incidents/{incident.id}").text
    assert f'href="/cases/{case.id}"' in page
    assert "Charged" in page
    assert f'href="/cases/new?incident={incident.id}"' in page
    login_as("analyst")
    page = client.get(f"/incidents/{incident.id}").text
    assert f'href="/cases/{case.id}"' in page
    assert "/cases/new" not in page


def test_case_panel_lists_only_visible_cases_with_days_since_update(
    app: Flask, db: Session, incident: Incident, make_user: UserFactory
) -> None:
    shown = new_case(db, incident, state="MLI")
    new_event(db, shown, "reported", date.today() - timedelta(days=10))
    deleted = new_case(db, incident, state="MLI")
    deleted.deleted_at = utcnow()
    db.flush()
    with app.test_request_context():
        panel = case_pages.case_panel(db, make_user("analyst"), incident)
    assert [row["id"] for row in panel["cases"]] == [shown.id]
    assert panel["cases"][0]["days_since_update"] == 10
    assert panel["may_open"] is False


# Editing, with the version check -------------------------------------------------------------


def test_a_stale_case_edit_is_refused_and_a_fresh_one_saved(
    client: FlaskClient, db: Session, incident: Incident, officer: User, make_user: UserFactory
) -> None:
    case = new_case(db, incident, charges="first")
    form_page = client.get(f"/cases/{case.id}/edit").text
    token = csrf_token(form_page)
    assert 'name="version" type="hidden" value="1"' in form_page
    other = make_user("admin")
    cases.update_case(
        db,
        other,
        case,
        cases.CaseFields("MLI", "military", None, "changed meanwhile"),
        version=1,
    )
    stale = client.post(
        f"/cases/{case.id}/edit",
        data={**valid_case(charges="mine"), "version": "1", "csrf_token": token},
    )
    assert stale.status_code == 409
    assert "Someone else changed this case after you opened the form." in stale.text
    db.refresh(case)
    assert case.charges == "changed meanwhile"
    assert case.version == 2
    fresh = client.post(
        f"/cases/{case.id}/edit",
        data={**valid_case(charges="mine"), "version": "2", "csrf_token": token},
    )
    assert fresh.status_code == 302
    db.refresh(case)
    assert (case.charges, case.version) == ("mine", 3)
    kept = db.scalars(
        sa.select(RecordVersion.data).where(
            RecordVersion.record_type == "judicial_cases", RecordVersion.record_id == case.id
        )
    ).all()
    assert [v["charges"] for v in kept] == ["first", "changed meanwhile"]


def test_editing_a_case_needs_to_keep_it(
    client: FlaskClient, db: Session, incident: Incident, login_as: LoginAs
) -> None:
    case = new_case(db, incident)
    login_as("analyst")
    assert client.get(f"/cases/{case.id}/edit").status_code == 403
    login_as("mission", missions=("MONUSCO",))
    assert client.get(f"/cases/{case.id}/edit").status_code == 404


# Defendants and whose identity shows ----------------------------------------------------------


def test_defendants_are_added_and_validated_field_by_field(
    client: FlaskClient, db: Session, incident: Incident, officer: User
) -> None:
    case = new_case(db, incident)
    page = f"/cases/{case.id}/defendants/new"
    refused = post_form(client, page, {"alias": "  ", "sentence_months": "-3"})
    assert refused.status_code == 422
    assert 'id="alias-error"' in refused.text
    assert 'id="sentence_months-error"' in refused.text
    assert count(db, Defendant) == 0
    huge = post_form(client, page, {"alias": "X", "sentence_months": "9" * 30})
    assert huge.status_code == 422
    saved = post_form(
        client, page, {"alias": "Abou Zeid", "identifier": "ML-77", "sentence_months": "240"}
    )
    assert saved.status_code == 302
    defendant = db.scalars(sa.select(Defendant)).one()
    assert (defendant.alias, defendant.identifier, defendant.sentence_months) == (
        "Abou Zeid",
        "ML-77",
        240,
    )


def test_a_stale_defendant_edit_is_refused(
    client: FlaskClient, db: Session, incident: Incident, officer: User
) -> None:
    case = new_case(db, incident)
    defendant = new_defendant(db, case, verdict=None)
    page = f"/cases/{case.id}/defendants/{defendant.id}/edit"
    token = csrf_token(client.get(page).text)
    defendant.verdict = "acquitted by another hand"
    db.flush()
    response = client.post(
        page, data={"alias": "Abou Zeid", "verdict": "guilty", "version": "1", "csrf_token": token}
    )
    assert response.status_code == 409
    db.refresh(defendant)
    assert defendant.verdict == "acquitted by another hand"


ALIAS = "Abou Zeid al-Targui"
IDENTIFIER = "NIN-5512-88"


@pytest.mark.parametrize(
    ("role", "bindings", "sees"),
    [
        ("mission", {"missions": ("MINUSMA",)}, True),
        ("admin", {}, True),
        ("member_state", {"state": "NER"}, True),  # prosecutes the case
        ("member_state", {"state": "MLI"}, False),  # hosts the mission, sees the case
        ("member_state", {"state": "TCD"}, False),  # a victim's contingent
        ("analyst", {}, False),
    ],
)
def test_defendant_identity_is_absent_from_the_page_unless_allowed(
    client: FlaskClient,
    db: Session,
    incident: Incident,
    login_as: LoginAs,
    role: str,
    bindings: dict[str, Any],
    sees: bool,
) -> None:
    case = new_case(db, incident, state="NER")
    accused = new_defendant(db, case, alias=ALIAS, identifier=IDENTIFIER, affiliation="JNIM")
    new_event(db, case, "arrested", date(2021, 5, 1), defendant=accused)
    login_as(role, **bindings)
    page = client.get(f"/cases/{case.id}").text
    assert (ALIAS in page) is sees
    assert (IDENTIFIER in page) is sees
    assert ("Defendant 1" in page) is not sees
    assert "JNIM" in page  # the affiliation is not personal data


# Stage events entered by the mission ---------------------------------------------------------


def event_form(case: JudicialCase) -> str:
    return f"/cases/{case.id}/events/new"


def test_a_stage_event_needs_a_date_after_the_incident_and_not_in_the_future(
    client: FlaskClient, db: Session, incident: Incident, officer: User
) -> None:
    case = new_case(db, incident)
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    for day, reason in (
        (tomorrow, "The date is in the future."),
        ("2021-03-13", "The date is before the incident of 2021-03-14."),
        ("13/03/2021", "Not a valid date value."),
    ):
        response = post_form(client, event_form(case), {"stage": "reported", "occurred_on": day})
        assert response.status_code == 422
        assert reason in response.text
    unknown = post_form(client, event_form(case), {"stage": "lynched", "occurred_on": "2021-04-01"})
    assert unknown.status_code == 422
    assert 'id="stage-error"' in unknown.text
    assert count(db, StageEvent) == 0
    accepted = post_form(
        client,
        event_form(case),
        {"stage": "reported", "occurred_on": "2021-03-14", "source_document": "PV 12/2021"},
    )
    assert accepted.status_code == 302
    db.refresh(case)
    assert case.current_stage == "reported"
    event = db.scalars(sa.select(StageEvent)).one()
    assert (event.review_status, event.entered_by_id) == ("validated", officer.id)


def test_an_event_for_a_defendant_of_another_case_is_refused(
    client: FlaskClient, db: Session, incident: Incident, officer: User
) -> None:
    case = new_case(db, incident)
    stranger = new_defendant(db, new_case(db, incident))
    response = post_form(
        client,
        event_form(case),
        {"subject": str(stranger.id), "stage": "arrested", "occurred_on": "2021-04-01"},
    )
    assert response.status_code == 422
    assert count(db, StageEvent) == 0


def test_a_mission_officer_soft_deletes_an_event_and_the_stage_follows(
    client: FlaskClient, db: Session, incident: Incident, login_as: LoginAs
) -> None:
    case = new_case(db, incident, state="NER")
    new_event(db, case, "reported", date(2021, 3, 20))
    last = new_event(db, case, "charged", date(2021, 6, 1))
    stages.recompute_stages(db, case)
    path = f"/cases/{case.id}/events/{last.id}/delete"
    for role, bindings, status in (
        ("analyst", {}, 403),
        ("member_state", {"state": "NER"}, 403),  # the prosecuting State deletes nothing
    ):
        login_as(role, **bindings)
        token = csrf_token(client.get(f"/cases/{case.id}").text)
        assert client.post(path, data={"csrf_token": token}).status_code == status
    login_as("mission", missions=("MINUSMA",))
    page = client.get(f"/cases/{case.id}").text
    # The button is behind a disclosure, asked twice.
    assert re.search(rf'<details class="confirm-delete">\s*<summary>Delete…</summary>\s*'
                     rf'<form method="post" action="{path}">', page)  # fmt: skip
    token = csrf_token(page)
    assert client.post(path, data={"csrf_token": token}).status_code == 302
    db.refresh(last)
    db.refresh(case)
    assert last.deleted_at is not None
    assert case.current_stage == "reported"
    assert f'id="event-{last.id}"' not in client.get(f"/cases/{case.id}").text
    # A deleted event is gone for every path: deleting it again answers 404.
    assert client.post(path, data={"csrf_token": token}).status_code == 404


# Derived stages and durations, without HTTP ---------------------------------------------------


def test_stages_derive_from_the_latest_validated_event_by_date_then_id(
    db: Session, incident: Incident
) -> None:
    case = new_case(db, incident)
    first, second = new_defendant(db, case), new_defendant(db, case, alias="Second")
    # Entered out of order: the latest by date wins, not the latest entered.
    new_event(db, case, "trial_opened", date(2022, 1, 10))
    new_event(db, case, "investigation_opened", date(2021, 4, 1))
    # Pending, rejected and deleted events never count, however late.
    new_event(db, case, "convicted", date(2022, 6, 1), status="pending")
    new_event(db, case, "acquitted", date(2022, 6, 2), status="rejected")
    new_event(db, case, "final", date(2022, 6, 3)).deleted_at = utcnow()
    # The defendants follow their own events only.
    new_event(db, case, "arrested", date(2021, 5, 1), defendant=first)
    new_event(db, case, "warrant_issued", date(2021, 4, 20), defendant=second)
    new_event(db, case, "charged", date(2021, 4, 20), defendant=second)  # same day, later id
    stages.recompute_stages(db, case)
    assert case.current_stage == "trial_opened"
    assert first.current_stage == "arrested"
    assert second.current_stage == "charged"
    # A defendant's later event moves the case too: the case counts all its events.
    new_event(db, case, "convicted", date(2022, 2, 1), defendant=first)
    stages.recompute_stages(db, case)
    assert (case.current_stage, first.current_stage) == ("convicted", "convicted")


def test_a_case_without_counting_events_has_no_stage(db: Session, incident: Incident) -> None:
    case = new_case(db, incident, current_stage="charged")
    new_event(db, case, "charged", date(2021, 4, 1), status="pending")
    stages.recompute_stages(db, case)
    assert case.current_stage is None


def test_days_since_last_update_and_from_the_incident(
    db: Session, incident: Incident, make_incident: IncidentFactory
) -> None:
    earlier = make_incident(occurred_on=date(2021, 2, 28))
    case = new_case(db, incident, earlier)
    opened_on = case.created_at.date()
    # Without events, the update is the opening of the case.
    assert stages.days_since_last_update(db, case, opened_on + timedelta(days=5)) == 5
    new_event(db, case, "reported", date(2021, 3, 1))
    new_event(db, case, "charged", date(2022, 3, 14))
    new_event(db, case, "trial_opened", date(2022, 4, 30), status="pending")
    # 1 May 2022 - 14 March 2022 = 17 + 30 days.
    assert stages.days_since_last_update(db, case, date(2022, 5, 1)) == 48
    # From the earliest incident, 28 February 2021 (not a leap year).
    first = stages.first_incident_on(case)
    assert first == date(2021, 2, 28)
    assert stages.days_from_incident(first, date(2021, 3, 1)) == 1
    assert stages.days_from_incident(first, date(2022, 3, 14)) == 379
    assert stages.days_from_incident(None, date(2022, 3, 14)) is None


def test_the_service_refuses_events_from_those_who_may_not_report(
    db: Session, incident: Incident, make_user: UserFactory
) -> None:
    case = new_case(db, incident, state="NER")
    fields = EventFields(stage="reported", occurred_on=date(2021, 4, 1))
    with pytest.raises(NotAllowedError):
        stages.add_stage_event(db, make_user("analyst"), case, fields, on_day=date(2022, 1, 1))
    with pytest.raises(NotAllowedError):
        stages.add_stage_event(
            db, make_user("member_state", state="MLI"), case, fields, on_day=date(2022, 1, 1)
        )
    assert count(db, StageEvent) == 0


# Scope, bad input, CSRF --------------------------------------------------------------------


def test_the_prosecuting_state_sees_a_case_its_incidents_do_not_concern(
    client: FlaskClient, db: Session, incident: Incident, login_as: LoginAs
) -> None:
    case = new_case(db, incident, state="BRA")
    login_as("member_state", state="BRA")
    assert client.get(f"/incidents/{incident.id}").status_code == 404
    response = client.get(f"/cases/{case.id}")
    assert response.status_code == 200
    assert incident.reference not in response.text
    assert "1 other incident(s) outside your access" in response.text
    viewed = db.scalar(
        sa.select(AuditEvent).where(
            AuditEvent.action == "view",
            AuditEvent.target_type == "judicial_cases",
            AuditEvent.target_id == str(case.id),
        )
    )
    assert viewed is not None


def test_an_unrelated_state_gets_404_on_every_path_of_a_case(
    client: FlaskClient, db: Session, incident: Incident, login_as: LoginAs
) -> None:
    case = new_case(db, incident, state="NER")
    defendant = new_defendant(db, case)
    event = new_event(db, case, "reported", date(2021, 4, 1), status="pending")
    login_as("member_state", state="BRA")
    token = csrf_token(client.get("/assistance/").text)
    base = f"/cases/{case.id}"
    for path in (
        base,
        f"{base}/edit",
        f"{base}/defendants/new",
        f"{base}/defendants/{defendant.id}/edit",
        f"{base}/events/new",
        f"{base}/comments",
    ):
        assert client.get(path).status_code == 404, path
    for path in (
        f"{base}/edit",
        f"{base}/defendants/new",
        f"{base}/events/new",
        f"{base}/events/{event.id}/validate",
        f"{base}/events/{event.id}/reject",
        f"{base}/events/{event.id}/delete",
        f"{base}/comments",
    ):
        assert client.post(path, data={"csrf_token": token}).status_code == 404, path


def test_bad_ids_and_bad_input_never_answer_500(
    client: FlaskClient, db: Session, incident: Incident, officer: User
) -> None:
    case = new_case(db, incident)
    for path in (
        "/cases/0",
        "/cases/99999999999999999999",
        "/cases/abc",
        "/cases/new",
        "/cases/new?incident=abc",
        "/cases/new?incident=-1",
        "/cases/new?incident=99999999999999999999",
        f"/cases/{case.id}/defendants/99999999999/edit",
        f"/cases/{case.id}/defendants/0/edit",
    ):
        assert client.get(path).status_code == 404, path
    token = csrf_token(client.get(f"/cases/{case.id}").text)
    nonsense = {
        "csrf_token": token,
        "subject": "x",
        "stage": ["a", "b"],
        "occurred_on": "9999-99-99",
        "version": "99999999999999999999999",
        "prosecuting_state": "\x00",
        "sentence_months": "1e9",
    }
    for path in (
        f"/cases/{case.id}/edit",
        f"/cases/{case.id}/events/new",
        f"/cases/{case.id}/defendants/new",
        f"/cases/new?incident={incident.id}",
    ):
        assert client.post(path, data=nonsense).status_code == 422, path
    assert client.post(f"/cases/{case.id}/events/12345/validate", data=nonsense).status_code == 404


def test_a_post_without_csrf_token_is_refused(
    client: FlaskClient, db: Session, incident: Incident, officer: User
) -> None:
    assert client.post(open_form(incident), data=valid_case()).status_code == 400
    assert count(db, JudicialCase) == 0
