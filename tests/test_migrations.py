"""``upgrade head`` builds exactly the models' schema, and ``downgrade base`` undoes it."""

from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask

from capdb.app import create_app
from capdb.cli import alembic_config
from capdb.db import Base
from tests.conftest import config_for


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
