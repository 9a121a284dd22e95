"""Spreadsheet import: headers and labels in either language, all or nothing, idempotent."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient, FlaskCliRunner
from openpyxl import Workbook, load_workbook
from sqlalchemy.orm import Session

from auth.models import AuditEvent, User
from capdb.bulk import insert_rows
from capdb.vocabularies import VOCABULARIES
from incidents.models import Incident, Victim
from incidents.signals import incidents_saved
from incidents.transfer import importing
from tests.factories import LoginAs, UserFactory
from tests.test_i18n import csrf_token

ENGLISH_ROW = {
    "Source reference": "SITREP-001",
    "Mission": "MINUSMA",
    "Date": "2021-03-14",
    "Time": "06:40",
    "Date precision": "Exact date and time",
    "Country": "Mali",
    "Place": "Aguelhok",
    "Latitude": "18.44",
    "Longitude": "1.41",
    "Location precision": "exact",
    "Means of attack": "Improvised explosive device",
    "Attack context": "Attack on a convoy",
    "Location type": "Road or supply route",
    "Perpetrator type": "Unknown",
    "Perpetrator name": "",
    "Narrative": "A convoy hit an IED north of Aguelhok.",
    "Sources": "Sector North flash report",
    "Victim 1 category": "Contingent military",
    "Victim 1 nationality": "TCD",
    "Victim 1 contributing country": "Chad",
    "Victim 1 sex": "Male",
    "Victim 1 outcome": "Killed",
    "Victim 1 date of death": "2021-03-14",
    "Victim 1 name": "Mahamat Example",
    "Victim 2 category": "national_civilian",
    "Victim 2 nationality": "MLI",
    "Victim 2 outcome": "Blessé",
}

# Another incident, for files of several rows.
SECOND_ROW = ENGLISH_ROW | {
    "Source reference": "SITREP-002",
    "Date": "2021-05-02",
    "Time": "",
    "Date precision": "day",
    "Victim 1 date of death": "2021-05-02",
}

FRENCH_ROW = {
    "Référence source": "SITREP-002",
    "Mission": "minusma",
    "Date": datetime(2021, 5, 2),
    "Précision de la date": "Jour connu",
    "Pays": "Niger",
    "Lieu": "Ménaka",
    "Précision du lieu": "Localité proche",
    "Moyen d'attaque": "Tirs d'armes légères",
    "Contexte de l'attaque": "Pendant une patrouille",
    "Type de lieu": "rural",
    "Type d'auteur": "Groupe armé non étatique",
    "Nom de l'auteur": "Groupe X",
    "Statut": "Soumis",
    "Victime 1 catégorie": "Policier hors unité constituée",
    "Victime 1 nationalité": "Sénégal",
    "Victime 1 pays contributeur": "SEN",
    "Victime 1 sexe": "Femme",
    "Victime 1 conséquence": "injured",
}


def csv_file(rows: list[dict[str, Any]], delimiter: str = ",") -> bytes:
    headers = list(dict.fromkeys(key for row in rows for key in row))
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(headers)
    for row in rows:
        writer.writerow([row.get(header, "") for header in headers])
    return buffer.getvalue().encode("utf-8")


def xlsx_file(rows: list[dict[str, Any]]) -> bytes:
    headers = list(dict.fromkeys(key for row in rows for key in row))
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Incidents"
    sheet.append(headers)
    for row in rows:
        sheet.append([row.get(header) for header in headers])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def incidents_from(db: Session, *source_references: str) -> list[Incident]:
    return list(
        db.scalars(
            sa.select(Incident)
            .where(Incident.source_reference.in_(source_references))
            .order_by(Incident.source_reference)
        )
    )


def counts(db: Session) -> tuple[int, int, int]:
    return (
        db.scalar(sa.select(sa.func.count()).select_from(Incident)) or 0,
        db.scalar(sa.select(sa.func.count()).select_from(Victim)) or 0,
        db.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) or 0,
    )


@pytest.fixture
def officer(make_user: UserFactory) -> User:
    return make_user("mission", missions=("MINUSMA",))


def run_import(
    app: Any, db: Session, user: User, data: bytes, filename: str, **options: Any
) -> importing.ImportResult:
    with app.test_request_context():
        return importing.import_spreadsheet(db, user, data, filename, **options)


# The happy paths ------------------------------------------------------------------------------


def test_a_csv_with_english_headers_creates_the_incidents_and_victims(
    app: Any, db: Session, officer: User
) -> None:
    result = run_import(app, db, officer, csv_file([ENGLISH_ROW]), "minusma.csv")
    assert result.ok
    assert len(result.created) == 1
    [incident] = incidents_from(db, "SITREP-001")
    assert re.fullmatch(r"MINUSMA-2021-\d{4}", incident.reference)
    assert (incident.status, incident.created_by_id, incident.version) == ("draft", officer.id, 1)
    assert incident.occurred_on == date(2021, 3, 14)
    assert incident.occurred_time is not None
    assert incident.occurred_time.isoformat() == "06:40:00"
    assert (incident.date_precision, incident.geo_precision) == ("exact", "exact")
    assert (incident.means_of_attack, incident.attack_context) == ("ied", "convoy")
    assert (incident.country_code, incident.latitude, incident.longitude) == ("MLI", 18.44, 1.41)
    killed, injured = incident.victims
    assert (killed.category, killed.nationality_code, killed.contributing_country_code) == (
        "contingent_military", "TCD", "TCD",
    )  # fmt: skip
    assert (killed.outcome, killed.date_of_death, killed.name) == (
        "killed", date(2021, 3, 14), "Mahamat Example",
    )  # fmt: skip
    assert (injured.category, injured.outcome, injured.sex) == (
        "national_civilian", "injured", "unknown",
    )  # fmt: skip


def test_an_xlsx_with_french_headers_and_labels_in_either_language(
    app: Any, db: Session, officer: User
) -> None:
    result = run_import(app, db, officer, xlsx_file([FRENCH_ROW]), "minusma.xlsx")
    assert result.ok, result.plan.problems
    [incident] = incidents_from(db, "SITREP-002")
    assert (incident.mission_code, incident.occurred_on, incident.date_precision) == (
        "MINUSMA", date(2021, 5, 2), "day",
    )  # fmt: skip
    assert (incident.country_code, incident.geo_precision, incident.location_type) == (
        "NER", "nearby_town", "rural",
    )  # fmt: skip
    assert (incident.perpetrator_type, incident.perpetrator_name) == ("armed_group", "Groupe X")
    assert (incident.status, incident.submitted_by_id) == ("submitted", officer.id)
    assert incident.submitted_at is not None
    [victim] = incident.victims
    assert (victim.category, victim.nationality_code, victim.contributing_country_code) == (
        "individual_police", "SEN", "SEN",
    )  # fmt: skip
    assert (victim.sex, victim.outcome) == ("female", "injured")


def test_headers_may_be_the_column_keys_and_a_csv_may_use_semicolons(
    app: Any, db: Session, officer: User
) -> None:
    known = importing.known_headers()
    row = {
        known[importing.header_key(header)].key: value
        for header, value in ENGLISH_ROW.items()
        if not header.startswith("Victim 2")
    }
    row["source_reference"] = "SITREP-KEYS"
    result = run_import(app, db, officer, csv_file([row], delimiter=";"), "keys.csv")
    assert result.ok, result.plan.problems
    [incident] = incidents_from(db, "SITREP-KEYS")
    assert len(incident.victims) == 1


def test_the_import_is_audited_with_who_which_file_and_how_many_rows(
    app: Any, db: Session, officer: User
) -> None:
    data = csv_file([ENGLISH_ROW, SECOND_ROW])
    result = run_import(app, db, officer, data, "two.csv")
    event = db.scalars(sa.select(AuditEvent).where(AuditEvent.action == "import")).one()
    assert (event.user_id, event.target_type) == (officer.id, "incidents")
    assert event.detail["file"] == "two.csv"
    assert (event.detail["rows"], event.detail["created"]) == (2, 2)
    assert sorted(event.detail["incidents"]) == sorted(result.created)


def test_references_continue_the_missions_numbering(
    app: Any, db: Session, officer: User, make_incident: Any
) -> None:
    make_incident(reference="MINUSMA-2021-0041")
    result = run_import(app, db, officer, csv_file([ENGLISH_ROW]), "next.csv")
    assert result.ok
    assert incidents_from(db, "SITREP-001")[0].reference == "MINUSMA-2021-0042"


# Nothing written -----------------------------------------------------------------------------


def test_a_dry_run_writes_nothing(
    cli: FlaskCliRunner, db: Session, tmp_path: Path, officer: User
) -> None:
    path = tmp_path / "dry.csv"
    path.write_bytes(csv_file([ENGLISH_ROW]))
    before = counts(db)
    result = cli.invoke(args=["incidents", "import", str(path), "--dry-run", "--as", officer.email])
    assert result.exit_code == 0, result.output
    assert "1 incident(s) would be imported" in result.output
    assert counts(db) == before


def test_every_bad_cell_is_reported_and_nothing_is_written(
    app: Any, db: Session, officer: User
) -> None:
    good = ENGLISH_ROW | {"Source reference": "GOOD-1"}
    bad = ENGLISH_ROW | {
        "Source reference": "BAD-1",
        "Mission": "MONUSCO",
    }
    worse = ENGLISH_ROW | {
        "Source reference": "BAD-2",
        "Date": "14 March",
        "Time": "06:40",
        "Date precision": "Day known",
        "Latitude": "95",
        "Means of attack": "Catapult",
        "Place": "",
        "Victim 1 outcome": "Injured",
        "Victim 2 nationality": "Atlantis",
        "Status": "Validated",
    }
    before = counts(db)
    result = run_import(app, db, officer, csv_file([good, bad, worse]), "bad.csv")
    assert not result.ok
    assert result.created == []
    found = {(p.row, p.column, p.value): p.reason for p in result.plan.problems}
    expected = {
        (3, "Mission", "MONUSCO"): "You cannot record incidents for this mission.",
        (4, "Date", "14 March"): "Enter a date as YYYY-MM-DD.",
        (4, "Time", "06:40"): "A time is given only with an exact date and time.",
        (4, "Latitude", "95"): "A latitude is between -90 and 90.",
        (4, "Means of attack", "Catapult"): "Not a value of the list",
        (4, "Place", ""): "This field is required.",
        (4, "Victim 1 date of death", "2021-03-14"): (
            "A date of death is given only for a victim who was killed."
        ),
        (4, "Victim 2 nationality", "Atlantis"): "Unknown country",
        (4, "Status", "Validated"): "An import creates drafts or submitted incidents",
    }
    assert set(found) == set(expected)
    for where, reason in expected.items():
        assert found[where].startswith(reason), (where, found[where])
    assert all(p.letter for p in result.plan.problems)
    assert counts(db) == before


def test_missing_and_unknown_columns_are_reported_before_any_row(
    app: Any, db: Session, officer: User
) -> None:
    row = {k: v for k, v in ENGLISH_ROW.items() if k != "Place"} | {"Colour": "blue"}
    result = run_import(app, db, officer, csv_file([row]), "columns.csv")
    assert {(p.row, p.column, p.reason) for p in result.plan.problems} == {
        (1, "Colour", "Unknown column."),
        (1, "Place", "This column is missing."),
    }
    assert incidents_from(db, "SITREP-001") == []


def test_a_source_reference_twice_in_the_file_is_refused(
    app: Any, db: Session, officer: User
) -> None:
    result = run_import(app, db, officer, csv_file([ENGLISH_ROW, ENGLISH_ROW]), "twice.csv")
    [problem] = result.plan.problems
    assert (problem.row, problem.column) == (3, "Source reference")
    assert "already on row 2" in problem.reason
    assert incidents_from(db, "SITREP-001") == []


def test_a_file_that_is_not_a_spreadsheet_is_refused(app: Any, db: Session, officer: User) -> None:
    with pytest.raises(importing.UnreadableFileError):
        run_import(app, db, officer, b"PK\x03\x04 not really a zip", "broken.xlsx")
    with pytest.raises(importing.UnreadableFileError):
        run_import(app, db, officer, b"", "empty.csv")


# Running it twice, and failing half-way ------------------------------------------------------


def test_importing_the_same_file_again_adds_nothing(
    cli: FlaskCliRunner, db: Session, tmp_path: Path, officer: User
) -> None:
    path = tmp_path / "again.xlsx"
    path.write_bytes(xlsx_file([ENGLISH_ROW, SECOND_ROW]))
    args = ["incidents", "import", str(path), "--as", officer.email]
    first = cli.invoke(args=args)
    assert first.exit_code == 0, first.output
    assert "Imported 2 incident(s)" in first.output
    after_first = counts(db)
    second = cli.invoke(args=args)
    assert second.exit_code == 0, second.output
    assert "row 2: already imported (MINUSMA SITREP-001)" in second.output
    assert "Imported 0 incident(s)" in second.output
    incidents, victims, _audit = counts(db)
    assert (incidents, victims) == after_first[:2]
    assert len(incidents_from(db, "SITREP-001", "SITREP-002")) == 2


def test_a_failure_half_way_leaves_nothing_behind(
    cli: FlaskCliRunner,
    db: Session,
    tmp_path: Path,
    officer: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rows = [ENGLISH_ROW | {"Source reference": f"CRASH-{n}"} for n in range(5)]
    path = tmp_path / "crash.csv"
    path.write_bytes(csv_file(rows))
    monkeypatch.setattr(importing, "BATCH", 2)
    calls = []

    def insert_then_fail(*args: Any, **kwargs: Any) -> list[int]:
        calls.append(1)
        if len(calls) == 4:  # the incidents of the second batch went in; now its victims fail
            raise RuntimeError("disk full")
        return insert_rows(*args, **kwargs)

    monkeypatch.setattr(importing, "insert_rows", insert_then_fail)
    before = counts(db)
    result = cli.invoke(args=["incidents", "import", str(path), "--as", officer.email])
    assert result.exit_code != 0
    assert isinstance(result.exception, RuntimeError)
    assert len(calls) == 4
    assert counts(db) == before


def test_a_key_taken_while_importing_is_a_conflict_and_writes_nothing(
    app: Any, db: Session, officer: User, make_incident: Any
) -> None:
    rows = [ENGLISH_ROW | {"Source reference": "RACE-1"}, SECOND_ROW]
    sheet = importing.read_spreadsheet(csv_file(rows), "race.csv")
    with app.test_request_context():
        plan = importing.check(db, officer, sheet, filename="race.csv")
        # Another user records RACE-1 between the check and the write.
        make_incident(source_reference="RACE-1", reference="MINUSMA-2021-9000")
        before = counts(db)
        with pytest.raises(importing.ImportConflictError):
            importing.write(db, officer, plan)
    assert counts(db) == before
    assert incidents_from(db, "SITREP-002") == []


def test_listeners_hear_of_the_new_incidents_in_the_imports_transaction(
    app: Any, db: Session, officer: User
) -> None:
    heard: list[tuple[Session, list[int]]] = []

    def listener(session: Session, incident_ids: list[int]) -> None:
        heard.append((session, list(incident_ids)))

    with incidents_saved.connected_to(listener):
        result = run_import(app, db, officer, csv_file([ENGLISH_ROW]), "areas.csv")
    assert heard == [(db, result.created)]


# Who may import what -------------------------------------------------------------------------


def test_the_console_imports_for_any_mission(
    cli: FlaskCliRunner, db: Session, tmp_path: Path
) -> None:
    path = tmp_path / "console.csv"
    row = ENGLISH_ROW | {"Mission": "MONUSCO", "Country": "COD", "Date": "2015-01-01"}
    path.write_bytes(csv_file([row]))
    result = cli.invoke(args=["incidents", "import", str(path)])
    assert result.exit_code == 0, result.output
    [incident] = incidents_from(db, "SITREP-001")
    assert (incident.mission_code, incident.created_by_id) == ("MONUSCO", None)
    event = db.scalars(sa.select(AuditEvent).where(AuditEvent.action == "import")).one()
    assert event.actor == "console"


def test_the_command_lists_each_bad_cell_and_fails(
    cli: FlaskCliRunner, db: Session, tmp_path: Path, officer: User
) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(csv_file([ENGLISH_ROW | {"Means of attack": "Catapult"}]))
    result = cli.invoke(args=["incidents", "import", str(path), "--as", officer.email])
    assert result.exit_code == 1
    assert "row 2, column K (Means of attack): 'Catapult': Not a value of the list" in result.output
    assert "nothing was imported: 1 bad cell(s)" in result.output
    assert incidents_from(db, "SITREP-001") == []


def test_analysts_and_member_states_cannot_import(client: FlaskClient, login_as: LoginAs) -> None:
    for role in ("analyst", "member_state"):
        login_as(role)
        assert client.get("/incidents/import").status_code == 403
        assert client.get("/incidents/import/template.csv").status_code == 403


def test_an_account_that_may_not_import_is_refused_by_the_command(
    cli: FlaskCliRunner, tmp_path: Path, make_user: UserFactory
) -> None:
    analyst = make_user("analyst")
    path = tmp_path / "a.csv"
    path.write_bytes(csv_file([ENGLISH_ROW]))
    result = cli.invoke(args=["incidents", "import", str(path), "--as", analyst.email])
    assert result.exit_code == 1
    assert "cannot do this" in result.output


# The upload page and the templates -----------------------------------------------------------


def upload(client: FlaskClient, data: bytes, filename: str) -> Any:
    token = csrf_token(client.get("/incidents/import").text)
    return client.post(
        "/incidents/import",
        data={"csrf_token": token, "file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def import_token(page: str) -> str:
    match = re.search(r'name="token" value="([^"]+)"', page)
    assert match, "the page offers no import"
    return match.group(1)


def confirm(client: FlaskClient, page: str) -> Any:
    return client.post(
        "/incidents/import", data={"csrf_token": csrf_token(page), "token": import_token(page)}
    )


def test_the_page_checks_first_then_imports_on_confirmation(
    client: FlaskClient, db: Session, login_as: LoginAs
) -> None:
    login_as("mission", missions=("MINUSMA",))
    checked = upload(client, csv_file([ENGLISH_ROW]), "page.csv")
    assert checked.status_code == 200
    assert "1 incident will be created" in checked.text
    assert 'id="import-progress"' in checked.text
    assert incidents_from(db, "SITREP-001") == []
    done = confirm(client, checked.text)
    assert done.status_code == 200
    assert "1 incident was imported." in done.text
    assert len(incidents_from(db, "SITREP-001")) == 1
    again = upload(client, csv_file([ENGLISH_ROW]), "page.csv")
    assert "Already imported (1)" in again.text
    assert "0 incidents will be created" in again.text


def test_the_page_lists_the_bad_cells_with_422(
    client: FlaskClient, db: Session, login_as: LoginAs
) -> None:
    login_as("mission", missions=("MINUSMA",))
    response = upload(client, csv_file([ENGLISH_ROW | {"Latitude": "north"}]), "bad.csv")
    assert response.status_code == 422
    assert "Nothing was imported: 1 cell is wrong." in response.text
    assert "<td>H · Latitude</td>" in response.text
    assert "<td>north</td>" in response.text
    assert 'name="token"' not in response.text


def test_the_full_report_of_a_large_file_can_be_downloaded(
    client: FlaskClient, login_as: LoginAs, monkeypatch: pytest.MonkeyPatch
) -> None:
    from incidents.transfer import views as transfer_views

    monkeypatch.setattr(transfer_views, "SHOWN_PROBLEMS", 1)
    login_as("mission", missions=("MINUSMA",))
    rows = [ENGLISH_ROW | {"Source reference": f"R{n}", "Place": ""} for n in range(3)]
    page = upload(client, csv_file(rows), "large.csv").text
    # The link carries how a file in the UN's layout is grouped, as the check read it.
    match = re.search(r'href="(/incidents/import/[^"]+/report\.csv\?un_grouping=day)"', page)
    assert match
    with client.get(match.group(1)) as report:
        assert report.status_code == 200
        lines = list(csv.reader(io.StringIO(report.get_data(as_text=True).lstrip("\ufeff"))))
    assert lines[0] == ["Row", "Column", "Value", "Reason"]
    assert [line[0] for line in lines[1:]] == ["2", "3", "4"]


def test_an_upload_is_only_seen_by_its_uploader(client: FlaskClient, login_as: LoginAs) -> None:
    login_as("mission", missions=("MINUSMA",))
    token = import_token(upload(client, csv_file([ENGLISH_ROW]), "mine.csv").text)
    login_as("mission", missions=("MINUSMA",))
    csrf = csrf_token(client.get("/incidents/import").text)
    response = client.post("/incidents/import", data={"csrf_token": csrf, "token": token})
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("data", "filename", "reason"),
    [
        (b"", "", "Choose the spreadsheet to import."),
        (b"a,b\n", "incidents.pdf", "Upload an .xlsx or a .csv file."),
        (b"not a zip", "incidents.xlsx", "cannot be read as an Excel workbook"),
    ],
)
def test_a_bad_upload_is_refused_with_a_reason(
    client: FlaskClient, login_as: LoginAs, data: bytes, filename: str, reason: str
) -> None:
    login_as("admin")
    token = csrf_token(client.get("/incidents/import").text)
    form: dict[str, Any] = {"csrf_token": token}
    if filename:
        form["file"] = (io.BytesIO(data), filename)
    response = client.post("/incidents/import", data=form, content_type="multipart/form-data")
    assert response.status_code == 422
    assert reason in response.text


def test_the_french_workbook_template_round_trips(
    client: FlaskClient, db: Session, login_as: LoginAs
) -> None:
    login_as("mission", missions=("MINUSMA",))
    with client.get("/incidents/import/template.xlsx?lang=fr") as response:
        assert response.status_code == 200
        workbook = load_workbook(io.BytesIO(response.data))
    assert workbook.sheetnames == ["Instructions", "Incidents", "lists"]
    assert workbook["lists"].sheet_state == "hidden"
    sheet = workbook["Incidents"]
    headers = [cell.value for cell in sheet[1]]
    assert headers[:3] == ["Référence source", "Mission", "Date"]
    assert "Victime 10 nom" in headers
    lists = {dv.formula1 for dv in sheet.data_validations.dataValidation}
    assert any(formula.startswith("=lists!") for formula in lists)
    # Labels as the drop-down lists offer them.
    fill = {
        "Référence source": "TPL-1", "Mission": "MINUSMA", "Date": date(2020, 1, 5),
        "Moyen d'attaque": "Engin explosif improvisé", "Pays": "Mali",
        "Précision de la date": "Jour connu", "Lieu": "Gao",
        "Précision du lieu": "Localité proche", "Contexte de l'attaque": "Embuscade",
        "Type de lieu": "Route ou axe de ravitaillement", "Type d'auteur": "Inconnu",
        "Victime 1 catégorie": "Civil recruté sur le plan national",
        "Victime 1 nationalité": "Mali", "Victime 1 conséquence": "Tué",
    }  # fmt: skip
    for header, value in fill.items():
        sheet.cell(row=2, column=headers.index(header) + 1, value=value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    checked = upload(client, buffer.getvalue(), "rempli.xlsx")
    assert checked.status_code == 200, checked.text
    assert confirm(client, checked.text).status_code == 200
    [incident] = incidents_from(db, "TPL-1")
    assert (incident.means_of_attack, incident.country_code, incident.attack_context) == (
        "ied", "MLI", "ambush",
    )  # fmt: skip
    assert [v.outcome for v in incident.victims] == ["killed"]


def test_the_csv_template_has_the_headers_in_each_language(
    client: FlaskClient, login_as: LoginAs
) -> None:
    login_as("admin")
    for lang, first in (("en", "Source reference"), ("fr", "Référence source")):
        with client.get(f"/incidents/import/template.csv?lang={lang}") as response:
            assert response.status_code == 200
            assert response.data.startswith(b"\xef\xbb\xbf")
            headers = next(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
        assert headers[0] == first
        assert len(headers) == len(importing.template_columns())


def test_every_label_names_one_term_of_its_vocabulary() -> None:
    for vocabulary in VOCABULARIES.values():
        lookup = importing.vocabulary_lookup(vocabulary)
        assert set(lookup.values()) == set(vocabulary.codes)


def test_headers_in_either_language_name_one_column() -> None:
    for column in importing.template_columns(importing.MAX_VICTIM_COLUMNS):
        for text in (column.key, column.en, column.fr):
            assert importing.known_headers()[importing.header_key(text)] == column


# Workbooks as Excel writes them --------------------------------------------------------------


def test_a_workbook_is_read_from_its_incidents_sheet_with_typed_cells() -> None:
    book = Workbook()
    book.active.title = "Notes"
    sheet = book.create_sheet("INCIDENTS")
    sheet["A1"], sheet["C1"], sheet["D1"], sheet["E1"] = (
        "Source reference",
        "Date",
        "Latitude",
        "Flag",
    )
    sheet["A3"], sheet["C3"], sheet["D3"], sheet["E3"] = "SR-42", datetime(2021, 3, 14), 18.5, True
    sheet["C3"].number_format = "dd/mm/yyyy"
    buffer = io.BytesIO()
    book.save(buffer)
    read = importing.read_spreadsheet(buffer.getvalue(), "excel.xlsx")
    assert read.headers == ["Source reference", "", "Date", "Latitude", "Flag"]
    assert read.rows == [(3, ["SR-42", None, datetime(2021, 3, 14), 18.5, True])]


def test_a_workbook_declaring_a_dtd_is_refused() -> None:
    book = Workbook()
    book.active["A1"] = "Mission"
    buffer = io.BytesIO()
    book.save(buffer)
    tampered = io.BytesIO()
    with zipfile.ZipFile(buffer) as original, zipfile.ZipFile(tampered, "w") as copy:
        for entry in original.infolist():
            data = original.read(entry.filename)
            if entry.filename == "xl/worksheets/sheet1.xml":
                data = b'<!DOCTYPE lol [<!ENTITY lol "lol">]>' + data
            copy.writestr(entry, data)
    with pytest.raises(importing.UnreadableFileError):
        importing.read_spreadsheet(tampered.getvalue(), "entities.xlsx")
    # The same workbook without the DTD is read.
    assert importing.read_spreadsheet(buffer.getvalue(), "plain.xlsx").headers == ["Mission"]
