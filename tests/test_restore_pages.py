"""The history page's restores: confirmed after seeing the differences, content only, and
back through validation (the scenario of issue 12)."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from auth.models import AuditEvent, User
from incidents import history
from incidents.models import Incident, Victim
from incidents.recording import workflow
from tests.factories import IncidentFactory, LoginAs, UserFactory
from tests.test_i18n import csrf_token


def as_user(db: Session, user: User) -> None:
    """Changes flushed from here on are the user's in the history."""
    db.info[history.ACTOR_KEY] = user.id


@pytest.fixture
def officers(make_user: UserFactory) -> tuple[User, User]:
    return make_user("mission"), make_user("mission")


def validated(
    db: Session, make_incident: IncidentFactory, author: User, validator: User
) -> Incident:
    """A draft recorded by ``author`` with a Chadian killed, submitted and validated."""
    incident = make_incident(status="draft", created_by_id=author.id, narrative="First account.")
    db.add(
        Victim(
            incident=incident, category="contingent_military", nationality_code="TCD",
            contributing_country_code="TCD", outcome="killed", date_of_death=date(2021, 3, 14),
        )
    )  # fmt: skip
    db.flush()
    as_user(db, author)
    workflow.submit(db, author, incident)
    as_user(db, validator)
    workflow.validate(db, validator, incident)
    return incident


def restore(client: FlaskClient, path: str) -> str:
    """Open the confirmation page and confirm; the page that follows."""
    confirmation = client.get(path)
    assert confirmation.status_code == 200, confirmation.text
    version = confirmation.text.split('name="current_version" value="')[1].split('"')[0]
    response = client.post(
        path,
        data={"csrf_token": csrf_token(confirmation.text), "current_version": version},
        follow_redirects=True,
    )
    assert response.status_code == 200
    return response.text


def test_restoring_the_validated_version_after_a_return_never_validates_again(
    client: FlaskClient,
    login_as: LoginAs,
    db: Session,
    make_incident: IncidentFactory,
    officers: tuple[User, User],
) -> None:
    author, validator = officers
    incident = validated(db, make_incident, author, validator)
    validated_version = incident.version
    workflow.return_to_draft(db, validator, incident, "Check the outcome.")
    # The author changes the victim's outcome and the narrative, as an edit of the draft.
    as_user(db, author)
    victim = incident.victims[0]
    victim.outcome, victim.date_of_death = "injured", None
    incident.narrative, incident.updated_by_id = "Second account.", author.id
    db.flush()
    login_as(user=author)

    page = restore(client, f"/incidents/{incident.id}/history/{validated_version}/restore")

    db.refresh(incident)
    db.refresh(victim)
    assert incident.status == "draft"
    assert (incident.validated_by_id, incident.validated_at) == (None, None)
    assert incident.return_reason == "Check the outcome."
    assert incident.narrative == "First account."
    assert victim.outcome == "injured"  # nobody validated it, nobody restored it
    assert f"Version {validated_version} was restored" in page
    listed = client.get(f"/incidents/{incident.id}/history").text
    assert f"Restore of version {validated_version}" in listed


def test_the_exact_scenario_restores_nothing_and_stays_a_draft(
    client: FlaskClient,
    login_as: LoginAs,
    db: Session,
    make_incident: IncidentFactory,
    officers: tuple[User, User],
) -> None:
    """Only a victim changed since the validated version: the incident's content is the same."""
    author, validator = officers
    incident = validated(db, make_incident, author, validator)
    validated_version = incident.version
    workflow.return_to_draft(db, validator, incident, "Check the outcome.")
    as_user(db, author)
    incident.victims[0].outcome, incident.victims[0].date_of_death = "injured", None
    db.flush()
    version = incident.version
    login_as(user=author)

    path = f"/incidents/{incident.id}/history/{validated_version}/restore"
    confirmation = client.get(path).text
    assert "restoring it would change nothing" in confirmation
    assert 'name="current_version"' not in confirmation
    page = client.post(
        path,
        data={"csrf_token": csrf_token(confirmation), "current_version": str(version)},
        follow_redirects=True,
    ).text

    db.refresh(incident)
    assert (incident.status, incident.validated_by_id, incident.version) == ("draft", None, version)
    assert "nothing changed" in page


def test_restoring_a_draft_version_of_a_validated_incident_hides_it_from_states(
    client: FlaskClient,
    login_as: LoginAs,
    db: Session,
    make_incident: IncidentFactory,
    make_user: UserFactory,
    officers: tuple[User, User],
) -> None:
    author, validator = officers
    incident = make_incident(status="draft", created_by_id=author.id, place="Aguelhok")
    incident.place = "Tessalit"
    db.flush()
    workflow.submit(db, author, incident)
    workflow.validate(db, validator, incident)
    mali = make_user("member_state", state="MLI")
    login_as(user=mali)
    assert client.get(f"/incidents/{incident.id}").status_code == 200
    login_as(user=author)

    restore(client, f"/incidents/{incident.id}/history/1/restore")

    db.refresh(incident)
    assert (incident.place, incident.status, incident.validated_by_id) == (
        "Aguelhok",
        "draft",
        None,
    )
    login_as(user=mali)
    assert client.get(f"/incidents/{incident.id}").status_code == 404
    assert incident.reference not in client.get("/incidents/").text


def test_restoring_a_victim_sends_the_validated_incident_back_to_draft(
    client: FlaskClient,
    login_as: LoginAs,
    db: Session,
    make_incident: IncidentFactory,
    officers: tuple[User, User],
) -> None:
    author, validator = officers
    incident = validated(db, make_incident, author, validator)
    victim = incident.victims[0]
    victim.unit = "Tessalit battalion"
    db.flush()
    login_as("admin")

    restore(client, f"/incidents/{incident.id}/victims/{victim.id}/history/1/restore")

    db.refresh(incident)
    db.refresh(victim)
    assert (getattr(victim, "unit"), incident.status, incident.validated_by_id) == (  # noqa: B009
        None,
        "draft",
        None,
    )


def test_a_deleted_victims_versions_are_not_offered_nor_restored(
    client: FlaskClient,
    login_as: LoginAs,
    db: Session,
    make_incident: IncidentFactory,
    officers: tuple[User, User],
) -> None:
    author, validator = officers
    incident = validated(db, make_incident, author, validator)
    kept = incident.victims[0]
    removed = Victim(
        incident=incident, category="national_civilian", nationality_code="MLI", outcome="injured"
    )
    db.add(removed)
    db.flush()
    kept.unit = removed.unit = "Tessalit battalion"
    db.flush()
    removed.deleted_at = removed.created_at
    db.flush()
    login_as("admin")

    page = client.get(f"/incidents/{incident.id}/history").text
    assert f"/victims/{kept.id}/history/1/restore" in page
    assert f"/victims/{removed.id}/history/" not in page
    path = f"/incidents/{incident.id}/victims/{removed.id}/history/1/restore"
    assert client.get(path).status_code == 404
    token = csrf_token(page)
    posted = client.post(path, data={"csrf_token": token, "current_version": "3"})
    assert posted.status_code == 404
    db.refresh(removed)
    db.refresh(incident)
    assert (removed.unit, removed.deleted_at is not None) == ("Tessalit battalion", True)
    assert incident.status == "validated"
    assert db.scalar(sa.select(AuditEvent).where(AuditEvent.action == "restore")) is None


def test_a_victim_is_restored_only_through_its_own_incident(
    client: FlaskClient,
    login_as: LoginAs,
    db: Session,
    make_incident: IncidentFactory,
    officers: tuple[User, User],
) -> None:
    author, validator = officers
    incident = validated(db, make_incident, author, validator)
    other = make_incident()
    victim = incident.victims[0]
    victim.unit = "Tessalit battalion"
    db.flush()
    login_as("admin")
    path = f"/incidents/{other.id}/victims/{victim.id}/history/1/restore"
    assert client.get(path).status_code == 404


def test_a_restore_the_rules_refuse_shows_why_and_changes_nothing(
    client: FlaskClient,
    login_as: LoginAs,
    db: Session,
    make_incident: IncidentFactory,
    officers: tuple[User, User],
) -> None:
    author, validator = officers
    incident = validated(db, make_incident, author, validator)
    victim = incident.victims[0]
    victim.outcome, victim.date_of_death = "injured", None
    incident.occurred_on = date(2021, 3, 20)
    db.flush()
    login_as("admin")
    path = f"/incidents/{incident.id}/victims/{victim.id}/history/1/restore"

    confirmation = client.get(path)
    assert confirmation.status_code == 422
    assert "The date of death cannot be before the incident." in confirmation.text
    assert 'name="current_version"' not in confirmation.text
    token = csrf_token(client.get(f"/incidents/{incident.id}/history").text)
    posted = client.post(path, data={"csrf_token": token, "current_version": str(victim.version)})
    assert posted.status_code == 422
    assert "The date of death cannot be before the incident." in posted.text

    db.refresh(victim)
    db.refresh(incident)
    assert (victim.outcome, victim.date_of_death) == ("injured", None)
    assert incident.status == "validated"
    assert db.scalar(sa.select(AuditEvent).where(AuditEvent.action == "restore")) is None


def test_the_confirmation_shows_the_differences_and_changes_nothing(
    client: FlaskClient, login_as: LoginAs, db: Session, make_incident: IncidentFactory
) -> None:
    incident = make_incident(place="Aguelhok", means_of_attack="ied")
    incident.place, incident.means_of_attack = "Tessalit", "small_arms"
    db.flush()
    login_as("mission", missions=("MINUSMA",))

    page = client.get(
        f"/incidents/{incident.id}/history/1/restore", headers={"Accept-Language": "fr"}
    ).text

    for shown in ("Lieu", "Tessalit", "Aguelhok", "Moyen d'attaque", "Engin explosif improvisé"):
        assert shown in page.replace("&#39;", "'"), shown
    assert "redevient un brouillon" in page
    db.refresh(incident)
    assert (incident.place, incident.version, incident.status) == ("Tessalit", 2, "validated")
    assert db.scalar(sa.select(AuditEvent).where(AuditEvent.action == "restore")) is None


def test_a_restore_needs_the_csrf_token_and_the_current_version(
    client: FlaskClient, login_as: LoginAs, db: Session, make_incident: IncidentFactory
) -> None:
    incident = make_incident(place="Aguelhok")
    incident.place = "Tessalit"
    db.flush()
    login_as("mission", missions=("MINUSMA",))
    path = f"/incidents/{incident.id}/history/1/restore"
    assert client.post(path, data={"current_version": "2"}).status_code == 400
    token = csrf_token(client.get(path).text)
    stale = client.post(path, data={"csrf_token": token, "current_version": "1"})
    assert stale.status_code == 302
    db.refresh(incident)
    assert (incident.place, incident.version) == ("Tessalit", 2)
    assert client.get(f"/incidents/{incident.id}/history/9/restore").status_code == 404


@pytest.mark.parametrize(
    ("role", "bindings", "status"),
    [
        ("analyst", {}, 403),
        ("member_state", {"state": "MLI"}, 403),
        ("mission", {"missions": ("MONUSCO",)}, 404),
    ],
)
def test_only_those_who_keep_the_record_may_restore(
    client: FlaskClient,
    login_as: LoginAs,
    db: Session,
    make_incident: IncidentFactory,
    role: str,
    bindings: dict[str, str],
    status: int,
) -> None:
    incident = make_incident(place="Aguelhok")
    incident.place = "Tessalit"
    db.flush()
    login_as(role, **bindings)
    path = f"/incidents/{incident.id}/history/1/restore"
    assert client.get(path).status_code == status
    token = csrf_token(client.get("/incidents/").text)
    assert client.post(path, data={"csrf_token": token, "current_version": "2"}).status_code == (
        status
    )
    db.refresh(incident)
    assert incident.place == "Tessalit"
