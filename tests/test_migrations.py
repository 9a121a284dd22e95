"""``upgrade head`` builds exactly the models' schema, and ``downgrade base`` undoes it."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from sqlalchemy.orm import Session

from auth.models import User
from capdb.app import create_app
from capdb.cli import alembic_config
from capdb.db import Base, utcnow
from incidents.filters import IncidentFilters, scoped_incidents
from incidents.models import Incident, Victim
from incidents.search import is_search_table, outside_the_models
from tests.conftest import config_for
from tests.factories import incident_values


@pytest.fixture
def empty_app(
    make_database_url: Callable[[str], str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Flask]:
    url = make_database_url("migrations")
    app = create_app(config_for(url, tmp_path_factory.mktemp("instance")))
    with app.app_context():
        yield app
    app.extensions["capdb.db"].engine.dispose()


def table_names(app: Flask) -> set[str]:
    return set(sa.inspect(app.extensions["capdb.db"].engine).get_table_names())


def test_upgrade_head_equals_the_models_and_downgrade_empties(empty_app: Flask) -> None:
    engine = empty_app.extensions["capdb.db"].engine
    assert table_names(empty_app) == set()

    command.upgrade(alembic_config(), "head")
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"include_object": outside_the_models}
        )
        differences = compare_metadata(context, Base.metadata)
    assert differences == []
    made = {name for name in table_names(empty_app) if not is_search_table(name)}
    assert made == set(Base.metadata.tables) | {"alembic_version"}
    assert {"incident_search", "case_search"} <= table_names(empty_app)

    command.downgrade(alembic_config(), "base")
    assert table_names(empty_app) == {"alembic_version"}


BEFORE_THREADS = "4613f1757e36"
THREADS_BY_STATE = "9c3e1d2a7b40"
OLD_COMMENTS = sa.table(
    "comments",
    sa.column("id", sa.Integer),
    sa.column("incident_id", sa.Integer),
    sa.column("author_id", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("body", sa.Text),
    sa.column("version", sa.Integer),
    sa.column("created_at", sa.DateTime),
    sa.column("updated_at", sa.DateTime),
)


# The trail as it was then (the chain's columns came later); written as it was, in SQL.
# The users table as the earlier revisions have it (later ones add columns to the model).
OLD_USERS = sa.table(
    "users",
    sa.column("id", sa.Integer),
    sa.column("email", sa.String),
    sa.column("password_hash", sa.String),
    sa.column("role", sa.String),
    sa.column("state_code", sa.String),
    sa.column("active", sa.Boolean),
    sa.column("created_at", sa.DateTime),
    sa.column("version", sa.Integer),
)


@dataclass(frozen=True)
class OldUser:
    id: int
    email: str


def old_user(db: Session, email: str, role: str, state: str | None = None) -> OldUser:
    values: dict[str, object] = {"email": email, "password_hash": "x", "role": role}
    values |= {"state_code": state, "active": True, "created_at": utcnow(), "version": 1}
    user_id = db.execute(OLD_USERS.insert().values(**values).returning(OLD_USERS.c.id)).scalar_one()
    return OldUser(user_id, email)


OLD_AUDIT_EVENTS = sa.table(
    "audit_events",
    sa.column("occurred_at", sa.DateTime),
    sa.column("user_id", sa.Integer),
    sa.column("actor", sa.String),
    sa.column("action", sa.String),
    sa.column("target_type", sa.String),
    sa.column("target_id", sa.String),
    sa.column("detail", sa.JSON),
    sa.column("prev_hash", sa.String),
    sa.column("hash", sa.String),
)


def old_audit_entry(
    user: OldUser, target_type: str, target_id: int, detail: dict[str, object]
) -> sa.Insert:
    return OLD_AUDIT_EVENTS.insert().values(
        occurred_at=utcnow(), user_id=user.id, actor=user.email, action="create",
        target_type=target_type, target_id=str(target_id), detail=detail,
        prev_hash="0" * 64, hash=f"{target_type}{target_id}".ljust(64, "0"),
    )  # fmt: skip


def old_reference_data(db: Session, countries: tuple[str, ...] = ("MLI", "TCD")) -> None:
    """The countries and the mission (MINUSMA, hosted by Mali) the test's records name, as
    the tables were then (the models describe them as they are now)."""
    country_table = sa.table(
        "countries", *(sa.column(n, sa.String) for n in ("code", "name_en", "name_fr"))
    )
    missions = sa.table(
        "missions",
        *(sa.column(n, sa.String) for n in ("code", "name_en", "name_fr")),
        sa.column("started_on", sa.Date),
    )
    hosts = sa.table("mission_hosts", sa.column("mission_code"), sa.column("country_code"))
    db.execute(country_table.insert(), [{"code": c, "name_en": c, "name_fr": c} for c in countries])
    db.execute(
        missions.insert().values(
            code="MINUSMA", name_en="MINUSMA", name_fr="MINUSMA", started_on=date(2013, 4, 25)
        )
    )
    db.execute(hosts.insert().values(mission_code="MINUSMA", country_code="MLI"))


def test_comment_threads_by_state_put_old_answers_in_the_thread_they_answered(
    empty_app: Flask,
) -> None:
    """Before threads by State, the mission's answer to a State's request was open to every
    State; after the migration it is in the thread of the request it answered (paired by its
    audit entry), and only the mission's comments to everyone stay open to all."""
    command.upgrade(alembic_config(), BEFORE_THREADS)
    with empty_app.extensions["capdb.db"].sessionmaker.begin() as db:
        old_reference_data(db)
        mali = old_user(db, "mali@capdb.test", "member_state", "MLI")
        chad = old_user(db, "chad@capdb.test", "member_state", "TCD")
        officer = old_user(db, "officer@capdb.test", "mission")
        # In SQL, as the schema of that revision holds it (the models are those of head).
        incident = db.execute(
            sa.insert(Incident).values(version=1, **incident_values()).returning(Incident.id)
        ).one()
        written = [
            (1, mali, "clarification_request"),
            (2, chad, "clarification_request"),
            (3, officer, "comment"),  # answers Chad
            (4, officer, "comment"),  # answers Mali
            (5, officer, "comment"),  # to every reader
            (6, mali, "comment"),
        ]
        for comment_id, author, kind in written:
            at = utcnow()
            db.execute(
                OLD_COMMENTS.insert().values(
                    id=comment_id, incident_id=incident.id, author_id=author.id, kind=kind,
                    body=f"Comment {comment_id}.", version=1, created_at=at, updated_at=at,
                )
            )  # fmt: skip
            detail: dict[str, object] = {"incident": incident.id, "kind": "comment"}
            answered = {3: 2, 4: 1}.get(comment_id)
            if answered is not None:
                detail["answers"] = answered
            db.execute(old_audit_entry(author, "comments", comment_id, detail))
        # Another record's entry naming the same id is not a comment's: it pairs nothing.
        db.execute(old_audit_entry(officer, "incidents", 5, {"answers": 1}))

    command.upgrade(alembic_config(), THREADS_BY_STATE)

    engine = empty_app.extensions["capdb.db"].engine
    with engine.connect() as connection:
        threads = dict(
            connection.execute(sa.text("SELECT id, thread_state_code FROM comments")).all()
        )
    assert threads == {1: "MLI", 2: "TCD", 3: "TCD", 4: "MLI", 5: None, 6: "MLI"}


BEFORE_SCOPE = "5b2f0c8e91d3"


def test_the_scope_migration_fills_the_states_of_existing_incidents(empty_app: Flask) -> None:
    command.upgrade(alembic_config(), BEFORE_SCOPE)
    with empty_app.extensions["capdb.db"].sessionmaker.begin() as db:
        old_reference_data(db, ("BRA", "FRA", "MLI", "NER", "TCD"))
        values = incident_values(country_code="NER", occurred_on=date(2019, 6, 1))
        incident = db.execute(
            sa.insert(Incident).values(version=1, **values).returning(Incident.id)
        ).one()
        victims = [("TCD", "TCD", None), ("FRA", None, None), ("BRA", None, utcnow())]
        for nationality, contributor, deleted_at in victims:
            db.execute(
                sa.insert(Victim).values(
                    incident_id=incident.id, category="contingent_military", outcome="injured",
                    nationality_code=nationality, contributing_country_code=contributor,
                    sex="male", version=1, deleted_at=deleted_at,
                )
            )  # fmt: skip
    command.upgrade(alembic_config(), "head")

    engine = empty_app.extensions["capdb.db"].engine
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT state, occurred_on, host, place, contributor, nationality"
                " FROM incident_states ORDER BY state"
            )
        ).all()
    assert [(r[0], str(r[1]), *map(bool, r[2:])) for r in rows] == [
        ("FRA", "2019-06-01", False, False, False, True),
        ("MLI", "2019-06-01", True, False, False, False),
        ("NER", "2019-06-01", False, True, False, False),
        ("TCD", "2019-06-01", False, False, True, True),
    ]


BEFORE_NATIONAL_CASES = "80182952a60c"  # attachments: the last revision before issue 17's
OLD_CASES = sa.table(
    "judicial_cases",
    *(sa.column(name) for name in ("id", "prosecuting_state_code", "jurisdiction")),
    *(sa.column(name) for name in ("national_reference", "charges")),
    *(sa.column(name) for name in ("version", "created_at", "updated_at")),
)
OLD_DEFENDANTS = sa.table(
    "defendants",
    *(sa.column(name) for name in ("id", "case_id", "alias", "version", "created_at")),
    sa.column("updated_at"),
)
OLD_EVENTS = sa.table(
    "stage_events",
    *(sa.column(name) for name in ("id", "case_id", "defendant_id", "stage", "occurred_on")),
    *(sa.column(name) for name in ("note", "review_status", "version", "created_at")),
    sa.column("updated_at"),
)
CASE_LINKS = sa.table("case_incidents", sa.column("case_id"), sa.column("incident_id"))
OLD_CASE_STATES = sa.table(
    "case_states", *(sa.column(n) for n in ("case_id", "state", "prosecutor", "through_incident"))
)


def test_cases_recorded_before_national_cases_stay_validated_and_are_searched(
    empty_app: Flask,
) -> None:
    """Issue 17's migrations (review of national cases, saved views, the search index),
    run after those of issues 14 to 19 on a database with a case: the case keeps its links,
    defendant, stage and States (on SQLite, where rebuilding the table would fail, its
    columns are added in place), counts as validated, and the search finds it by its
    incident's words and its own."""
    command.upgrade(alembic_config(), BEFORE_NATIONAL_CASES)
    with empty_app.extensions["capdb.db"].sessionmaker.begin() as db:
        old_reference_data(db)
        values = incident_values(narrative="Convoy ambushed north of the camp")
        (incident_id,) = db.execute(
            sa.insert(Incident).values(version=1, **values).returning(Incident.id)
        ).one()
        at = {"version": 1, "created_at": utcnow(), "updated_at": utcnow()}
        db.execute(
            OLD_CASES.insert().values(
                id=1, prosecuting_state_code="MLI", jurisdiction="ordinary",
                national_reference="RP-2021-17", charges="Atteinte à la sécurité de l'État", **at,
            )
        )  # fmt: skip
        db.execute(CASE_LINKS.insert().values(case_id=1, incident_id=incident_id))
        db.execute(OLD_DEFENDANTS.insert().values(id=1, case_id=1, alias="Abou Zeid", **at))
        db.execute(
            OLD_EVENTS.insert().values(
                id=1, case_id=1, defendant_id=1, stage="charged", occurred_on=date(2021, 9, 1),
                note="", review_status="validated", **at,
            )
        )  # fmt: skip
        db.execute(
            OLD_CASE_STATES.insert().values(
                case_id=1, state="MLI", prosecutor=True, through_incident=True
            )
        )
    command.upgrade(alembic_config(), "head")

    engine = empty_app.extensions["capdb.db"].engine
    with engine.connect() as connection:
        counts = {
            table: connection.scalar(sa.select(sa.func.count()).select_from(sa.table(table)))
            for table in ("case_incidents", "defendants", "stage_events", "case_states")
        }
        reviews = connection.execute(
            sa.text(
                "SELECT review_status FROM judicial_cases"
                " UNION ALL SELECT review_status FROM defendants"
            )
        ).scalars()
        assert counts == {"case_incidents": 1, "defendants": 1, "stage_events": 1, "case_states": 1}
        assert list(reviews) == ["validated", "validated"]
    admin = User(email="admin@capdb.test", role="admin", active=True)
    with empty_app.extensions["capdb.db"].sessionmaker() as db:
        for words in ("ambushed convoy", "securite", "RP-2021-17"):
            filters, errors = IncidentFilters.parse(db, {"q": words})
            assert not errors
            found = db.scalars(scoped_incidents(admin, filters).with_only_columns(Incident.id))
            assert list(found) == [incident_id], words


BEFORE_VOCABULARIES = "8e4a1c2d6f10"  # missions as reference data; vocabularies next


def searched(app: Flask, words: str) -> list[int]:
    admin = User(email="admin@capdb.test", role="admin", active=True)
    with app.extensions["capdb.db"].sessionmaker() as db:
        filters, errors = IncidentFilters.parse(db, {"q": words})
        assert not errors
        return list(db.scalars(scoped_incidents(admin, filters).with_only_columns(Incident.id)))


def test_the_vocabularies_lose_their_checks_and_keep_every_row_and_trigger(
    empty_app: Flask,
) -> None:
    """The kept vocabularies' CHECK constraints go (on SQLite by rebuilding the tables in
    batch mode): the rows, their references and the search index's triggers stay; new
    codes go in; a downgrade puts the checks back, refused while a new code is held."""
    command.upgrade(alembic_config(), BEFORE_VOCABULARIES)
    with empty_app.extensions["capdb.db"].sessionmaker.begin() as db:
        old_reference_data(db)
        values = incident_values(narrative="Convoy ambushed north of the camp")
        (incident_id,) = db.execute(
            sa.insert(Incident).values(version=1, **values).returning(Incident.id)
        ).one()
        db.execute(
            sa.insert(Victim).values(
                incident_id=incident_id, category="contingent_military", outcome="killed",
                nationality_code="TCD", contributing_country_code="TCD", sex="male", version=1,
            )
        )  # fmt: skip
    command.upgrade(alembic_config(), "head")

    engine = empty_app.extensions["capdb.db"].engine
    with engine.begin() as connection:
        assert connection.scalar(sa.text("SELECT count(*) FROM victims")) == 1
        connection.execute(
            sa.text("UPDATE incidents SET narrative = 'Helicopter shot down', means_of_attack ="
                    " 'drone' WHERE id = :id"),
            {"id": incident_id},
        )  # fmt: skip
        connection.execute(sa.text("UPDATE victims SET outcome = 'missing'"))
    assert searched(empty_app, "helicopter") == [incident_id]  # the triggers were made again
    assert searched(empty_app, "ambushed") == []

    with pytest.raises(RuntimeError, match="codes that capdb did not ship"):
        command.downgrade(alembic_config(), BEFORE_VOCABULARIES)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE incidents SET means_of_attack = 'ied'"))
        connection.execute(sa.text("UPDATE victims SET outcome = 'killed'"))
    command.downgrade(alembic_config(), BEFORE_VOCABULARIES)
    with engine.connect() as connection, pytest.raises(sa.exc.IntegrityError):
        connection.execute(sa.text("UPDATE victims SET outcome = 'missing'"))
    assert searched(empty_app, "helicopter") == [incident_id]
