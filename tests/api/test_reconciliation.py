"""Reconciliation with the UN's published fatality figures, on a small file in the UN's own
layout: an unknown mission, an undetermined nationality, a casualty of another type of
incident and casualties capdb holds already, checked both ways and within each scope."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from auth.models import AuditEvent
from incidents.models import Incident
from incidents.reconciliation import matching, un_data
from incidents.un_figures import ReconciliationNote, UnFatality
from tests.api.conftest import ApiAs, errors_of, json_of
from tests.factories import IncidentFactory, LoginAs, UserFactory, VictimFactory
from tests.test_i18n import csrf_token

HEADER = (
    "incident_date,casualty_id,mission_acronym,type_of_casualty,gender,casualty_nationality,"
    "casualty_personnel_type,type_of_incident,m49_code,isocode3,last_update"
)
UN_CSV = "\n".join(
    [
        HEADER,
        # capdb has this Chadian soldier, recorded a day earlier.
        "15-Mar-21,1001,MINUSMA,Fatality,Male,Chad,Military,Malicious Act,148,TCD,01-Jan-24",
        # A mission capdb does not know.
        "2021-05-05,1002,UNXYZ,Fatality,Male,Egypt,Military,Malicious Act,818,EGY,2024-01-01",
        # A national staff member whose nationality the UN does not give; capdb has them.
        "7/1/2021,1003,MINUSMA,Fatality,Female,,Local,Malicious Act,,,1/1/2024",
        # Another type of incident: kept, left out.
        "2021-08-01,1004,MINUSMA,Fatality,Male,Senegal,Military,Illness,686,SEN,2024-01-01",
        # An alias the UN uses for both emergency forces, named by its date.
        "1960-05-01,1005,UNEF,Fatality,Male,India,Military,Malicious Act,356,IND,2024-01-01",
    ]
)


@dataclass
class Recorded:
    chad: Incident
    bangladesh: Incident
    undetermined: Incident


@pytest.fixture
def recorded(make_incident: IncidentFactory, make_victim: VictimFactory) -> Recorded:
    chad = make_incident(occurred_on=date(2021, 3, 14))
    make_victim(chad, nationality_code="TCD", contributing_country_code="TCD", outcome="killed")
    bangladesh = make_incident(occurred_on=date(2021, 6, 1))
    make_victim(
        bangladesh, category="formed_police_unit", nationality_code="BGD",
        contributing_country_code="BGD", outcome="killed",
    )  # fmt: skip
    undetermined = make_incident(occurred_on=date(2021, 7, 2))
    make_victim(
        undetermined, category="national_civilian", nationality_code="XXX",
        contributing_country_code=None, outcome="killed",
    )  # fmt: skip
    # An injured victim is no fatality.
    make_victim(undetermined, nationality_code="NER", contributing_country_code="NER")
    return Recorded(chad, bangladesh, undetermined)


@pytest.fixture
def loaded(db: Session, make_user: UserFactory) -> None:
    un_data.load_un_figures(db, UN_CSV.encode(), "fatalities.csv", by=make_user("analyst"))


def rows_of(body: dict[str, object]) -> dict[tuple[str, int], dict[str, object]]:
    return {(r["mission"], r["year"]): r for r in body["rows"]}  # type: ignore[attr-defined]


def labels(casualties: object) -> list[str]:
    return [c["label"] for c in casualties]  # type: ignore[attr-defined]


@pytest.mark.usefixtures("loaded")
def test_the_uns_file_is_kept_as_it_says(db: Session) -> None:
    rows = {r.casualty_id: r for r in db.scalars(sa.select(UnFatality))}
    assert rows["1001"].incident_date == date(2021, 3, 15)
    assert rows["1001"].mission_code == "MINUSMA"
    assert rows["1002"].mission_code is None
    assert rows["1003"].nationality_code == "XXX"
    assert rows["1003"].incident_date == date(2021, 7, 1)
    assert rows["1005"].mission_code == "UNEF I"
    assert not rows["1004"].malicious


@pytest.mark.usefixtures("loaded")
def test_reconciliation_both_ways(api_as: ApiAs, recorded: Recorded) -> None:
    body = json_of(api_as("analyst").get("/reconciliation?year_from=2021&year_to=2021"))
    assert body["source"] == "fatalities.csv"
    assert body["other_types"] == 1
    rows = rows_of(body)
    minusma = rows[("MINUSMA", 2021)]
    assert (minusma["capdb"], minusma["un"], minusma["matched"]) == (3, 2, 2)
    assert minusma["difference"] == 1
    # In capdb only: the Bangladeshi policeman; in the UN's only: nothing.
    assert labels(minusma["unmatched_capdb"]) == [recorded.bangladesh.reference]
    assert minusma["unmatched_un"] == []
    unknown = rows[("UNXYZ", 2021)]
    assert unknown["known"] is False
    assert (unknown["capdb"], unknown["un"]) == (0, 1)
    assert labels(unknown["unmatched_un"]) == ["1002"]
    # A tolerance of zero days leaves the soldier and the national staff member unmatched.
    strict = rows_of(json_of(api_as("analyst").get("/reconciliation?year_from=2021&tolerance=0")))
    assert labels(strict[("MINUSMA", 2021)]["unmatched_un"]) == ["1001", "1003"]


@pytest.mark.usefixtures("loaded")
def test_finer_levels_on_demand(api_as: ApiAs, recorded: Recorded) -> None:
    body = json_of(
        api_as("analyst").get(
            "/reconciliation?year_from=2021&by_nationality=true&by_personnel_type=true"
        )
    )
    keys = {(r["mission"], r["nationality"], r["personnel_type"]): r for r in body["rows"]}
    assert keys[("MINUSMA", "XXX", "Local")]["matched"] == 1
    assert keys[("MINUSMA", "BGD", "Police")]["capdb"] == 1
    assert keys[("MINUSMA", "TCD", "Military")]["un"] == 1


@pytest.mark.usefixtures("loaded")
def test_a_focal_point_reconciles_what_concerns_its_state(
    api_as: ApiAs, recorded: Recorded
) -> None:
    body = json_of(api_as("member_state", state="TCD").get("/reconciliation?year_from=2021"))
    assert body["other_types"] == 0
    rows = rows_of(body)
    assert set(rows) == {("MINUSMA", 2021)}
    assert (rows[("MINUSMA", 2021)]["capdb"], rows[("MINUSMA", 2021)]["un"]) == (1, 1)
    officer = rows_of(json_of(api_as("mission", missions=("MONUSCO",)).get("/reconciliation")))
    assert officer == {}


@pytest.mark.usefixtures("loaded")
def test_an_explanation_is_audited_and_checked_for_staleness(
    api_as: ApiAs, db: Session, recorded: Recorded
) -> None:
    analyst = api_as("analyst")
    note = {"mission": "MINUSMA", "year": 2021, "text": "The FPU death is under review by DPO."}
    assert analyst.request("PUT", "/reconciliation/notes", json=note).status_code == 204
    row = rows_of(json_of(analyst.get("/reconciliation?year_from=2021")))[("MINUSMA", 2021)]
    assert row["explanation"] == note["text"]
    assert analyst.request("PUT", "/reconciliation/notes", json=note).status_code == 409
    changed = note | {"text": "Confirmed.", "version": row["explanation_version"]}
    assert analyst.request("PUT", "/reconciliation/notes", json=changed).status_code == 204
    assert db.scalar(sa.select(ReconciliationNote.text)) == "Confirmed."
    actions = db.scalars(
        sa.select(AuditEvent.action).where(AuditEvent.target_type == "reconciliation_notes")
    ).all()
    assert actions == ["create", "update"]
    assert (
        api_as("member_state", state="MLI")
        .request("PUT", "/reconciliation/notes", json=note)
        .status_code
        == 403
    )
    bad = analyst.request("PUT", "/reconciliation/notes", json=note | {"personnel_type": "Navy"})
    assert "personnel_type" in errors_of(bad)


def test_a_file_without_the_uns_columns_is_refused_whole(db: Session) -> None:
    with pytest.raises(un_data.UnDataError) as refused:
        un_data.load_un_figures(db, b"date,who\n2021-01-01,x\n", "other.csv", by=None)
    assert "casualty_id" in refused.value.problems["file"]
    with pytest.raises(un_data.UnDataError) as refused:
        un_data.load_un_figures(
            db, f"{HEADER}\nsoon,1,MINUSMA,,,,,Malicious Act,,,\n".encode(), "x.csv", by=None
        )
    assert "line 2" in refused.value.problems
    assert db.scalar(sa.select(sa.func.count()).select_from(UnFatality)) == 0


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("29-May-48", date(1948, 5, 29)),
        ("2021-03-15", date(2021, 3, 15)),
        ("2021-03-15 00:00:00", date(2021, 3, 15)),
        ("3/15/2021", date(2021, 3, 15)),
        ("15-Mar-2021", date(2021, 3, 15)),
        ("soon", None),
    ],
)
def test_the_uns_dates_are_read_in_their_forms(text: str, day: date | None) -> None:
    assert un_data.parse_date(text) == day


def test_the_page_loads_the_file_and_exports(
    client: FlaskClient, db: Session, login_as: LoginAs, recorded: Recorded
) -> None:
    login_as("mission")
    assert client.post("/reconciliation/upload").status_code in (400, 403)
    login_as("analyst")
    page = client.get("/reconciliation/")
    assert page.status_code == 200
    assert "No UN data is loaded yet" in page.text
    loaded = client.post(
        "/reconciliation/upload",
        data={"csrf_token": csrf_token(page.text), "file": (io.BytesIO(UN_CSV.encode()), "un.csv")},
        content_type="multipart/form-data",
    )
    assert loaded.status_code == 302
    page = client.get("/reconciliation/?year_from=2021")
    assert "UNXYZ" in page.text
    assert "unknown to capdb" in page.text
    exported = client.get("/reconciliation/export.csv?year_from=2021")
    assert exported.status_code == 200
    assert "UNXYZ" in exported.data.decode("utf-8-sig")
    assert (
        db.scalar(sa.select(AuditEvent).where(AuditEvent.target_type == "reconciliation"))
        is not None
    )
    assert client.get("/reconciliation/?tolerance=many").status_code == 400


def test_the_worker_loads_the_configured_path_when_it_changed(
    app: Flask, db: Session, tmp_path: Path
) -> None:
    file = tmp_path / "fatalities.csv"
    file.write_text(UN_CSV)
    app.extensions["capdb.config"] = app.extensions["capdb.config"].replace(
        un_fatalities_path=str(file)
    )
    first = un_data.refresh_from_path(app)
    assert first is not None
    assert first.rows == 5
    assert un_data.refresh_from_path(app) is None
    file.write_text(
        UN_CSV + "\n2022-01-01,1006,MINUSMA,Fatality,Male,Chad,Military,Accident,,TCD,\n"
    )
    again = un_data.refresh_from_path(app)
    assert again is not None
    assert again.rows == 6


def test_nothing_is_reconciled_without_the_uns_data(db: Session, make_user: UserFactory) -> None:
    result = matching.reconcile(db, make_user("analyst"), matching.Options())
    assert result.fatality_set is None
    assert result.other_types == 0
