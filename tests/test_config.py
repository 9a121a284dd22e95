from pathlib import Path

import pytest

from capdb.config import Config, ConfigError, Environment


def test_defaults_serve_the_embedded_database() -> None:
    config = Config.from_env({})
    assert config.env is Environment.DEVELOPMENT
    assert config.resolved_database_url.startswith("sqlite:///")
    assert config.resolved_database_url.endswith("instance/capdb.sqlite")


def test_reads_prefixed_variables_with_their_types(tmp_path: Path) -> None:
    config = Config.from_env(
        {
            "CAPDB_DATABASE_URL": "postgresql+psycopg://db/capdb",
            "CAPDB_SESSION_IDLE_MINUTES": "15",
            "CAPDB_SQL_ECHO": "yes",
            "CAPDB_INSTANCE_PATH": str(tmp_path),
            "HOME": "/ignored",
            "CAPDB_TEST_DATABASE_URL": "postgresql+psycopg://for/the/tests",
        }
    )
    assert config.resolved_database_url == "postgresql+psycopg://db/capdb"
    assert config.session_idle_minutes == 15
    assert config.sql_echo is True
    assert config.instance_path == tmp_path


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"CAPDB_DATABSE_URL": "x"}, "unknown setting CAPDB_DATABSE_URL"),
        ({"CAPDB_SESSION_IDLE_MINUTES": "soon"}, "whole number"),
        ({"CAPDB_SQL_ECHO": "maybe"}, "true or false"),
        ({"CAPDB_ENV": "staging"}, "development, test, production"),
        ({"CAPDB_DEFAULT_LOCALE": "de"}, "CAPDB_DEFAULT_LOCALE"),
        ({"CAPDB_ENV": "production", "CAPDB_SECRET_KEY": "k" * 40}, "CAPDB_DATABASE_URL"),
        ({"CAPDB_ENV": "production", "CAPDB_DATABASE_URL": "sqlite://"}, "CAPDB_SECRET_KEY"),
    ],
)
def test_bad_settings_are_refused(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Config.from_env(environ)


def test_generated_secret_key_is_kept_across_restarts(tmp_path: Path) -> None:
    config = Config(instance_path=tmp_path)
    first = config.resolved_secret_key()
    assert len(first) >= 32
    assert Config(instance_path=tmp_path).resolved_secret_key() == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
