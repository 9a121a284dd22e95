"""The UN's fatality data as a known layout of the import: casualties grouped into draft
incidents by the rule the user chose, with a dry run, row errors on the UN's own lines, and
nothing imported twice."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy.orm import Session

from auth.models import User
from incidents.models import Incident, Victim
from tests.factories import LoginAs, UserFactory
from tests.test_i18n import csrf_token
from tests.test_import import run_import

HEADER = (
    "incident_date,casualty_id,mission_acronym,type_of_casualty,gender,casualty_nationality,"
    "casualty_personnel_type,type_of_incident,m49_code,isocode3,last_update"
)
MINUSMA_ONLY = "\n".join(
    [
        HEADER,
        "15-Mar-21,2001,MINUSMA,Fatality,Male,Chad,Military,Malicious Act,148,TCD,01-Jan-24",
        "15-Mar-21,2002,MINUSMA,Fatality,Male,Chad,Military,Malicious Act,148,TCD,01-Jan-24",
        "2021-07-01,2003,MINUSMA,Fatality,Female,,Local,Malicious Act,,,2024-01-01",
        "2021-08-01,2004,MINUSMA,Fatality,Male,Senegal,Military,Illness,686,SEN,2024-01-01",
    ]
)
WITH_ERRORS = (
    MINUSMA_ONLY
    + "\n"
    + "\n".join(
        [
            "2021-05-05,2005,UNXYZ,Fatality,Male,Egypt,Military,Malicious Act,818,EGY,2024-01-01",
            "1960-05-01,2006,UNEF,Fatality,Male,India,Military,Malicious Act,356,IND,2024-01-01",
        ]
    )
)


def officer(make_user: UserFactory) -> User:
    return make_user("mission", missions=("MINUSMA",))


def count(db: Session) -> int:
    return db.scalar(sa.select(sa.func.count()).select_from(Incident)) or 0


def test_row_errors_are_on_the_uns_lines_and_nothing_is_written(
    app: Flask, db: Session, make_user: UserFactory
) -> None:
    before = count(db)
    result = run_import(app, db, officer(make_user), WITH_ERRORS.encode(), "un.csv")
    plan = result.plan
    assert plan.un_layout
    assert plan.un_left_out == 1
    bad = {(p.row, p.column) for p in plan.problems}
    assert (6, "mission") in bad  # UNXYZ, unknown to capdb
    assert (7, "mission") in bad  # UNEF I: not the officer's mission
    assert all(p.letter == "" for p in plan.problems)
    assert count(db) == before


def test_casualties_become_draft_incidents_grouped_by_day(
    app: Flask, db: Session, make_user: UserFactory
) -> None:
    user = officer(make_user)
    dry = run_import(app, db, user, MINUSMA_ONLY.encode(), "un.csv", dry_run=True)
    assert dry.plan.ok, dry.plan.problems
    assert len(dry.plan.new) == 2
    assert not dry.created
    done = run_import(app, db, user, MINUSMA_ONLY.encode(), "un.csv")
    assert len(done.created) == 2
    incidents = {
        i.occurred_on: i
        for i in db.scalars(sa.select(Incident).where(Incident.id.in_(done.created)))
    }
    march = incidents[date(2021, 3, 15)]
    assert (march.status, march.means_of_attack, march.country_code) == ("draft", "other", "MLI")
    assert march.source_reference == "UN MINUSMA 2021-03-15"
    assert "2001, 2002" in march.narrative
    victims = db.scalars(sa.select(Victim).where(Victim.incident_id == march.id)).all()
    assert [(v.category, v.nationality_code, v.outcome) for v in victims] == [
        ("contingent_military", "TCD", "killed"),
        ("contingent_military", "TCD", "killed"),
    ]
    july = db.scalars(
        sa.select(Victim).where(Victim.incident_id == incidents[date(2021, 7, 1)].id)
    ).one()
    assert (july.category, july.nationality_code, july.sex) == (
        "national_civilian",
        "XXX",
        "female",
    )
    again = run_import(app, db, user, MINUSMA_ONLY.encode(), "un.csv")
    assert again.created == []
    assert len(again.plan.already_imported) == 2


def test_one_incident_per_casualty_when_asked(
    app: Flask, db: Session, make_user: UserFactory
) -> None:
    result = run_import(
        app, db, officer(make_user), MINUSMA_ONLY.encode(), "un.csv", un_grouping="casualty"
    )
    assert len(result.created) == 3
    references = set(
        db.scalars(sa.select(Incident.source_reference).where(Incident.id.in_(result.created)))
    )
    assert references == {"UN casualty 2001", "UN casualty 2002", "UN casualty 2003"}


def test_the_import_page_takes_the_uns_layout(
    client: FlaskClient, db: Session, login_as: LoginAs
) -> None:
    login_as("mission", missions=("MINUSMA",))
    page = client.get("/incidents/import").text
    checked = client.post(
        "/incidents/import",
        data={
            "csrf_token": csrf_token(page), "un_grouping": "casualty",
            "file": (io.BytesIO(MINUSMA_ONLY.encode()), "un.csv"),
        },
        content_type="multipart/form-data",
    )  # fmt: skip
    assert checked.status_code == 200, checked.text
    assert "in the UN's fatality layout" in checked.text
    assert 'name="un_grouping" value="casualty"' in checked.text


def test_the_command_line_takes_the_uns_layout(
    cli: FlaskCliRunner, make_user: UserFactory, tmp_path: Path
) -> None:
    user = officer(make_user)
    file = tmp_path / "un.csv"
    file.write_text(MINUSMA_ONLY)
    result = cli.invoke(
        args=["incidents", "import", str(file), "--dry-run", "--as", user.email,
              "--un-grouping", "casualty"]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "3 incident(s) would be imported" in result.output
    assert "1 casualties of other incident types left out" in result.output
