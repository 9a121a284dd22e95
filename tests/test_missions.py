"""Missions as reference data that admins keep: the shipped set, the rules, versions and
audit, the command line, and the admin pages."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy.orm import Session

from auth.models import AuditEvent
from capdb.reference import (
    HostPeriod,
    Mission,
    MissionVersion,
    host_periods,
    load_reference,
    mission_named,
    set_mission_hosts,
)
from capdb.reference_data import mission_rows
from incidents.errors import StaleEditError
from incidents.reference import missions
from maps.figure_upkeep import check
from tests.factories import IncidentFactory, LoginAs, UserFactory, VictimFactory
from tests.test_admin_users import error_of, post_form
from tests.test_concerned import rows_of
from tests.test_i18n import csrf_token

# Every acronym of the UN's published fatality data (peacekeeping.un.org, "Peacekeeping
# fatalities open data"), as its mission_acronym column spells them.
UN_DATASET_ACRONYMS = """
BINUB BINUCA BINUH BNUB BONUCA DOMREP MICAH MINUCI MINUGUA MINUJUSTH MINURCA MINURCAT
MINURSO MINUSCA MINUSMA MINUSTAH MIPONUH MONUA MONUC MONUSCO ONUB ONUC ONUCA ONUMOZ ONUSAL
UNAMA UNAMET UNAMI UNAMIC UNAMID UNAMIR UNAMSIL UNASOG UNAVEM I UNAVEM II UNAVEM III UNCRO
UNDOF UNEF I UNEF II UNFICYP UNGOMAP UNIFIL UNIIMOG UNIKOM UNIOGBIS UNIOSIL UNIPOM UNIPSIL
UNISFA UNITAMS UNMEE UNMEER UNMHA UNMIBH UNMIH UNMIK UNMIL UNMIN UNMIS UNMISET UNMISS UNMIT
UNMOGIP UNMOP UNMOT UNOCI UNOGBIS UNOGIL UNOMIG UNOMIL UNOMSIL UNOMUR UNOSOM I UNOSOM II
UNOWAS UNPOS UNPREDEP UNPROFOR UNSF UNSMIH UNSMIL UNSMIS UNSOA UNSOM UNSOS UNTAC UNTAES
UNTAET UNTAG UNTMIH UNTSO UNVMC UNYOM UNPF UNOTIL UNSCOL UNOCA UNRCCA UNSCO
"""


def acronyms() -> list[str]:
    """The acronyms above, "UNEF I" kept whole."""
    words = UN_DATASET_ACRONYMS.split()
    found: list[str] = []
    for word in words:
        if word in {"I", "II", "III"}:
            found[-1] = f"{found[-1]} {word}"
        else:
            found.append(word)
    return found


def values(**changes: object) -> missions.MissionInput:
    base = missions.MissionInput(
        code="UNTEST",
        kind="political",
        name_en="United Nations Test Office",
        name_fr="Bureau des Nations Unies pour les essais",
        started_on=date(2020, 1, 1),
        ended_on=None,
        hosts=(HostPeriod("MLI"),),
    )
    return missions.MissionInput(**{**base.__dict__, **changes})


def test_every_operation_since_1948_ships_with_its_dates(db: Session) -> None:
    shipped = {m.code: m for m in db.scalars(sa.select(Mission))}
    assert len(shipped) >= 115
    for code in acronyms():
        assert code in shipped, code
        assert shipped[code].started_on >= date(1945, 10, 24)
    assert shipped["UNTSO"].started_on == date(1948, 5, 29)
    assert shipped["UNMOGIP"].started_on == date(1949, 1, 24)
    assert shipped["MONUC"].ended_on == date(2010, 6, 30)
    assert shipped["MONUSCO"].predecessor_code == "MONUC"
    assert shipped["BINUH"].predecessor_code == "MINUJUSTH"
    assert shipped["MINUJUSTH"].predecessor_code == "MINUSTAH"
    assert shipped["UNMISS"].predecessor_code == "UNMIS"
    assert shipped["UNSOS"].kind == "support_office"
    assert shipped["UNAMA"].kind == "political"
    # South Sudan hosts UNISFA from its independence.
    assert HostPeriod("SSD", date(2011, 7, 9)) in host_periods(shipped["UNISFA"])
    # Every predecessor named in the data file is a shipped mission.
    assert all(row.predecessor in shipped for row in mission_rows() if row.predecessor)


@pytest.mark.parametrize(
    ("acronym", "day", "expected"),
    [
        ("UNEF", date(1960, 5, 1), "UNEF I"),
        ("UNEF", date(1975, 5, 1), "UNEF II"),
        ("unef-ii", None, "UNEF II"),
        ("IPTF", date(1998, 1, 1), "UNMIBH"),
        ("MINUSMA", None, "MINUSMA"),
        ("NOSUCH", None, None),
    ],
)
def test_an_acronym_of_the_uns_data_names_a_mission(
    db: Session, acronym: str, day: date | None, expected: str | None
) -> None:
    every = list(db.scalars(sa.select(Mission)))
    found = mission_named(every, acronym, day)
    assert (found.code if found else None) == expected


def test_adding_a_mission_is_audited_and_versioned_on_change(
    db: Session, make_user: UserFactory
) -> None:
    admin = make_user("admin")
    mission = missions.add_mission(db, values(), by=admin)
    assert mission.curated
    assert host_periods(mission) == [HostPeriod("MLI")]
    version = mission.version
    changed = missions.update_mission(
        db,
        mission,
        values(hosts=(HostPeriod("MLI"), HostPeriod("NER", date(2021, 1, 1)))),
        by=admin,
        expected_version=version,
    )
    assert changed == ["hosts"]
    assert mission.version == version + 1
    kept = db.scalars(sa.select(MissionVersion).where(MissionVersion.mission_code == "UNTEST"))
    assert [v.data["hosts"] for v in kept] == [[{"country": "MLI", "since": None, "until": None}]]
    entries = db.scalars(
        sa.select(AuditEvent).where(AuditEvent.target_type == "missions").order_by(AuditEvent.id)
    ).all()
    assert [(e.action, e.target_id, e.actor) for e in entries] == [
        ("create", "UNTEST", admin.email),
        ("update", "UNTEST", admin.email),
    ]
    assert entries[1].detail["changed"] == ["hosts"]


def test_a_stale_change_is_refused(db: Session) -> None:
    mission = missions.add_mission(db, values(), by=None)
    with pytest.raises(StaleEditError):
        missions.update_mission(
            db, mission, values(name_en="Other"), by=None, expected_version=mission.version - 1
        )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"code": "minusma"}, "code"),
        ({"code": "MINUSMA"}, "code"),
        ({"code": ""}, "code"),
        ({"kind": "navy"}, "kind"),
        ({"name_fr": " "}, "name_fr"),
        ({"started_on": None}, "started_on"),
        ({"started_on": date(1900, 1, 1)}, "started_on"),
        ({"ended_on": date(2019, 1, 1)}, "ended_on"),
        ({"hosts": ()}, "hosts"),
        ({"hosts": (HostPeriod("ZZZ"),)}, "hosts"),
        ({"hosts": (HostPeriod("XXA"),)}, "hosts"),
        ({"hosts": (HostPeriod("MLI", date(2021, 1, 1), date(2020, 1, 1)),)}, "hosts"),
        ({"predecessor": "NOSUCH"}, "predecessor"),
        ({"predecessor": "UNTEST"}, "predecessor"),
        ({"aliases": ("not an acronym",)}, "aliases"),
    ],
)
def test_bad_input_is_refused_field_by_field(
    db: Session, changes: dict[str, object], field: str
) -> None:
    before = db.scalar(sa.select(sa.func.count()).select_from(Mission))
    with pytest.raises(missions.MissionError) as refused:
        missions.add_mission(db, values(**changes), by=None)
    assert field in refused.value.problems
    assert db.scalar(sa.select(sa.func.count()).select_from(Mission)) == before


def test_a_predecessor_cycle_is_refused(db: Session) -> None:
    first = missions.add_mission(db, values(code="UNA"), by=None)
    missions.add_mission(db, values(code="UNB", predecessor="UNA"), by=None)
    with pytest.raises(missions.MissionError) as refused:
        missions.update_mission(
            db, first, values(code="UNA", predecessor="UNB"), by=None,
            expected_version=first.version,
        )  # fmt: skip
    assert "predecessor" in refused.value.problems


def test_a_mission_with_incidents_is_closed_not_deleted(
    db: Session, make_incident: IncidentFactory
) -> None:
    mission = missions.add_mission(db, values(), by=None)
    make_incident(mission_code="UNTEST", occurred_on=date(2021, 5, 1), reference="UNTEST-1")
    with pytest.raises(missions.MissionInUseError, match="Close it instead"):
        missions.delete_mission(db, mission, by=None, expected_version=mission.version)
    # An end before its incidents would leave them outside the period.
    with pytest.raises(missions.MissionError) as refused:
        missions.close_mission(
            db, mission, date(2021, 1, 1), by=None, expected_version=mission.version
        )
    assert "incidents" in refused.value.problems["ended_on"]
    missions.close_mission(db, mission, date(2022, 1, 1), by=None, expected_version=mission.version)
    assert mission.ended_on == date(2022, 1, 1)
    assert mission.is_closed


def test_a_mission_nothing_names_is_deleted_and_stays_deleted(db: Session) -> None:
    mission = db.get_one(Mission, "UNOGIL")
    missions.delete_mission(db, mission, by=None, expected_version=mission.version)
    assert db.get(Mission, "UNOGIL") is None
    load_reference(db)
    assert db.get(Mission, "UNOGIL") is None


def test_loading_the_data_again_keeps_an_admins_change(db: Session) -> None:
    mission = db.get_one(Mission, "UNMIK")
    missions.update_mission(
        db, mission, missions.MissionInput.of(mission).__class__(
            **{**missions.MissionInput.of(mission).__dict__, "name_en": "Kosovo mission"}
        ), by=None, expected_version=mission.version,
    )  # fmt: skip
    load_reference(db)
    assert db.get_one(Mission, "UNMIK").name_en == "Kosovo mission"


def test_a_change_of_hosts_keeps_the_scope_and_figures_of_the_missions_incidents(
    db: Session, make_incident: IncidentFactory, make_victim: VictimFactory
) -> None:
    """Whichever path changes a mission's hosts (the admin pages, the API and the command
    line through missions.update_mission, the loader, deletion), the States its incidents
    concern and the figures kept for them follow in the same transaction."""
    mission = missions.add_mission(db, values(), by=None)
    incident = make_incident(mission_code="UNTEST", country_code="NER")
    # Undetermined (XXX): a nationality, no State the incident concerns.
    make_victim(
        incident, category="national_civilian", nationality_code="XXX",
        contributing_country_code=None, outcome="killed",
    )  # fmt: skip

    def states() -> set[tuple[str, str]]:
        return rows_of(db, incident)

    def figures_hold() -> bool:
        return all(not (d.missing or d.extra) for d in check(db).values())

    assert states() == {("MLI", "host"), ("NER", "place")}
    assert not set_mission_hosts(db, mission, [HostPeriod("MLI")])  # no change
    missions.update_mission(
        db, mission, values(hosts=(HostPeriod("BFA", since=date(2021, 1, 1)), HostPeriod("NER"))),
        by=None, expected_version=mission.version,
    )  # fmt: skip
    assert states() == {("BFA", "host"), ("NER", "host"), ("NER", "place")}
    assert figures_hold()
    set_mission_hosts(db, mission, [])
    assert states() == {("NER", "place")}
    assert figures_hold()


def test_the_other_un_presence_of_a_country(db: Session) -> None:
    mission, added = missions.presence_in(db, "afg", by=None)
    assert (mission.code, mission.kind, added) == ("UNP-AFG", "other_presence", True)
    assert [c.code for c in mission.hosts] == ["AFG"]
    again, added = missions.presence_in(db, "AFG", by=None)
    assert (again is mission, added) == (True, False)
    with pytest.raises(missions.MissionError):
        missions.presence_in(db, "XXX", by=None)


# The command line --------------------------------------------------------------------------


def test_the_command_line_lists_adds_updates_and_closes(cli: FlaskCliRunner, db: Session) -> None:
    listed = cli.invoke(args=["missions", "list", "--kind", "support_office"])
    assert listed.exit_code == 0
    assert "UNSOS" in listed.output
    assert "MINUSMA" not in listed.output
    added = cli.invoke(
        args=[
            "missions", "add", "UNTEST", "--kind", "political", "--name-en", "Test office",
            "--name-fr", "Bureau d'essai", "--start", "2020-01-01", "--host", "MLI",
            "--host", "NER:2021-01-01", "--alias", "untst",
        ]
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    mission = db.get_one(Mission, "UNTEST")
    assert host_periods(mission) == [HostPeriod("MLI"), HostPeriod("NER", date(2021, 1, 1))]
    assert mission.alias_list == ("UNTST",)
    updated = cli.invoke(args=["missions", "update", "UNTEST", "--name-en", "Renamed"])
    assert updated.exit_code == 0, updated.output
    closed = cli.invoke(args=["missions", "close", "UNTEST", "--on", "2022-06-30"])
    assert closed.exit_code == 0, closed.output
    db.expire_all()
    mission = db.get_one(Mission, "UNTEST")
    assert (mission.name_en, mission.ended_on) == ("Renamed", date(2022, 6, 30))
    refused = cli.invoke(args=["missions", "add", "UNTEST2", "--start", "2020-01-01"])
    assert refused.exit_code == 1
    assert "hosts:" in refused.output
    assert "name_en:" in refused.output
    presence = cli.invoke(args=["missions", "add", "--presence-in", "MLI"])
    assert presence.exit_code == 0
    assert "UNP-MLI" in presence.output


# The admin pages ----------------------------------------------------------------------------


def test_only_admins_reach_the_missions_pages(client: FlaskClient, login_as: LoginAs) -> None:
    for role in ("mission", "analyst", "member_state"):
        login_as(role)
        assert client.get("/admin/missions").status_code == 403
        assert client.get("/admin/missions/MINUSMA").status_code == 403
    login_as("admin")
    page = client.get("/admin/missions")
    assert page.status_code == 200
    assert "UNEF I" in page.text
    assert client.get("/admin/missions/NOSUCH").status_code == 404


def test_an_admin_adds_a_mission_and_an_officer_records_for_it(
    client: FlaskClient, db: Session, login_as: LoginAs, make_user: UserFactory
) -> None:
    login_as("admin")
    form = {
        "code": "untest", "kind": "political", "name_en": "Test office",
        "name_fr": "Bureau d'essai", "started_on": "2020-01-01", "hosts": "MLI\nNER 2021-01-01",
        "predecessor": "", "aliases": "",
    }  # fmt: skip
    refused = post_form(client, "/admin/missions/new", {**form, "hosts": "MLI 2021-13-01"})
    assert refused.status_code == 422
    assert "2011-07-09" in error_of(refused.text, "hosts")
    added = post_form(client, "/admin/missions/new", form)
    assert added.status_code == 302, added.text
    mission = db.get_one(Mission, "UNTEST")
    assert host_periods(mission)[1] == HostPeriod("NER", date(2021, 1, 1))
    officer = make_user("mission", missions=("UNTEST",))
    login_as(user=officer)
    page = client.get("/incidents/new")
    assert page.status_code == 200
    assert "UNTEST" in page.text


def test_an_admin_closes_and_a_stale_edit_is_refused(
    client: FlaskClient, db: Session, login_as: LoginAs
) -> None:
    login_as("admin")
    path = "/admin/missions/UNMIK"
    page = client.get(path).text
    token = csrf_token(page)
    version = db.get_one(Mission, "UNMIK").version
    closed = client.post(
        path + "/close", data={"csrf_token": token, "ended_on": "2030-01-01", "version": version}
    )
    assert closed.status_code == 302
    stale = client.post(
        path,
        data={
            "csrf_token": token, "version": version, "kind": "peacekeeping",
            "name_en": "UNMIK", "name_fr": "MINUK", "started_on": "1999-06-10",
            "hosts": "XKX", "predecessor": "", "aliases": "",
        },
    )  # fmt: skip
    assert stale.status_code == 409
    db.expire_all()
    assert db.get_one(Mission, "UNMIK").ended_on == date(2030, 1, 1)


def test_the_pages_refuse_to_delete_a_mission_with_incidents(
    client: FlaskClient, login_as: LoginAs, make_incident: IncidentFactory, db: Session
) -> None:
    make_incident()
    login_as("admin")
    token = csrf_token(client.get("/admin/missions/MINUSMA").text)
    refused = client.post("/admin/missions/MINUSMA/delete", data={"csrf_token": token})
    assert refused.status_code == 409
    assert "cannot be deleted" in refused.text
    assert db.get(Mission, "MINUSMA") is not None
    # Without the token, nothing at all.
    assert client.post("/admin/missions/UNOGIL/delete").status_code == 400
