from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from capdb.reference import Country, Mission, load_reference


def test_loading_twice_is_the_same_as_once(db: Session) -> None:
    # The suite's database was loaded once already.
    before = db.scalar(sa.select(sa.func.count()).select_from(Country))
    report = load_reference(db)
    assert (report.added, report.updated) == (0, 0)
    assert db.scalar(sa.select(sa.func.count()).select_from(Country)) == before


def test_loading_restores_changed_and_missing_rows(db: Session) -> None:
    db.get_one(Country, "FRA").name_fr = "Gaule"
    db.delete(db.get_one(Mission, "UNMIK"))
    db.flush()
    report = load_reference(db)
    assert (report.added, report.updated) == (1, 1)
    assert db.get_one(Country, "FRA").name_fr == "France"
    assert [c.code for c in db.get_one(Mission, "UNMIK").hosts] == ["XKX"]


def test_countries_have_both_names_and_the_un_extra_codes(db: Session) -> None:
    assert db.get_one(Country, "CIV").name_fr == "Côte d'Ivoire"
    assert db.get_one(Country, "COD").name_en.startswith("Congo")
    assert db.get_one(Country, "XKX").name_en == "Kosovo"
    assert db.get_one(Country, "XAB").name_en == "Abyei"
    assert len(db.scalars(sa.select(Country.code)).all()) >= 250


def test_missions_since_2013_with_their_hosts(db: Session) -> None:
    missions = {m.code: m for m in db.scalars(sa.select(Mission))}
    expected = {
        "MINUSMA", "MINUSCA", "MONUSCO", "UNMISS", "UNIFIL", "UNDOF", "UNFICYP", "UNMIK",
        "UNISFA", "MINURSO", "UNTSO", "UNMOGIP", "UNAMID",
    }  # fmt: skip
    assert expected <= set(missions)
    assert missions["MINUSMA"].ended_on == date(2023, 12, 31)
    assert missions["UNAMID"].is_closed
    assert not missions["MONUSCO"].is_closed
    assert {c.code for c in missions["UNMOGIP"].hosts} == {"IND", "PAK"}
    assert len(missions["UNTSO"].hosts) > 2
    assert "XAB" in {c.code for c in missions["UNISFA"].hosts}
