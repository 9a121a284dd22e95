"""``upgrade head`` builds exactly the models' schema, and ``downgrade base`` undoes it."""

from collections.abc import Callable, Iterator
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
from incidents.models import Incident
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
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []
    assert table_names(empty_app) == set(Base.metadata.tables) | {"alembic_version"}

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
    user: User, target_type: str, target_id: int, detail: dict[str, object]
) -> sa.Insert:
    return OLD_AUDIT_EVENTS.insert().values(
        occurred_at=utcnow(), user_id=user.id, actor=user.email, action="create",
        target_type=target_type, target_id=str(target_id), detail=detail,
        prev_hash="0" * 64, hash=f"{target_type}{target_id}".ljust(64, "0"),
    )  # fmt: skip


def old_reference_data(db: Session) -> None:
    """The countries and the mission the test's records name, as the tables were then (the
    models describe them as they are now)."""
    countries = sa.table(
        "countries", *(sa.column(n, sa.String) for n in ("code", "name_en", "name_fr"))
    )
    missions = sa.table(
        "missions",
        *(sa.column(n, sa.String) for n in ("code", "name_en", "name_fr")),
        sa.column("started_on", sa.Date),
    )
    db.execute(
        countries.insert(), [{"code": c, "name_en": c, "name_fr": c} for c in ("MLI", "TCD")]
    )
    db.execute(
        missions.insert().values(
            code="MINUSMA", name_en="MINUSMA", name_fr="MINUSMA", started_on=date(2013, 4, 25)
        )
    )


def test_comment_threads_by_state_put_old_answers_in_the_thread_they_answered(
    empty_app: Flask,
) -> None:
    """Before threads by State, the mission's answer to a State's request was open to every
    State; after the migration it is in the thread of the request it answered (paired by its
    audit entry), and only the mission's comments to everyone stay open to all."""
    command.upgrade(alembic_config(), BEFORE_THREADS)
    with empty_app.extensions["capdb.db"].sessionmaker.begin() as db:
        old_reference_data(db)
        mali = User(email="mali@capdb.test", role="member_state", state_code="MLI")
        chad = User(email="chad@capdb.test", role="member_state", state_code="TCD")
        officer = User(email="officer@capdb.test", role="mission")
        for user in (mali, chad, officer):
            user.password_hash = "x"
        incident = Incident(**incident_values())
        db.add_all([mali, chad, officer, incident])
        db.flush()
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
