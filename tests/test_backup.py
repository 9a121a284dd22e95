"""Backup and restore of the whole of capdb, on committed databases of their own.

The usual ``db`` fixture is one transaction that is rolled back: pg_dump, in a connection
of its own, would never see it. These tests make, fill and restore real databases.
"""

from __future__ import annotations

import io
import json
import os
import tarfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy.engine import make_url

from auth import audit, tokens
from auth.models import User
from capdb.app import create_app
from capdb.backup.periodic import periodic_backup
from capdb.cli import alembic_config
from capdb.config import Config, ConfigError
from incidents import search
from incidents.models import Incident
from tests import factories
from tests.conftest import DEFAULT_POSTGRES, config_for
from tests.factories import TEST_TOTP_SECRET
from tests.live import migrated_app
from tests.test_login import sign_in, signed_in

EMAIL = "focal.point@capdb.test"


@dataclass
class Site:
    """One capdb: an application on its own committed database and instance folder."""

    app: Flask
    instance: Path

    def run(self, *args: str) -> tuple[int, str]:
        result = self.app.test_cli_runner().invoke(args=list(args))
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result.exit_code, result.output

    @property
    def engine(self) -> sa.Engine:
        engine: sa.Engine = self.app.extensions["capdb.db"].engine
        return engine


@pytest.fixture
def make_site(
    make_database_url: Callable[[str], str], backend: str, tmp_path: Path
) -> Iterator[Callable[..., Site]]:
    """A function giving a new capdb, migrated or empty.

    On PostgreSQL a site to restore into is a database of its own: a backup names its
    schema, which the source's database holds already.
    """
    sites: list[Site] = []
    databases: list[str] = []
    admin_url = make_url(os.environ.get("CAPDB_TEST_DATABASE_URL", DEFAULT_POSTGRES))

    def make(purpose: str, *, migrated: bool = True, own_database: bool = True) -> Site:
        if backend == "postgresql" and own_database:
            name = f"capdb_{purpose}_{os.getpid()}"
            _autocommit(admin_url, f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"')
            databases.append(name)
            url = admin_url.set(database=name).render_as_string(hide_password=False)
        else:
            url = make_database_url(purpose)
        instance = tmp_path / f"instance-{purpose}"
        config = config_for(url, instance)
        site = Site(migrated_app(config) if migrated else create_app(config), instance)
        sites.append(site)
        return site

    yield make
    for site in sites:
        site.engine.dispose()
    for name in databases:
        _autocommit(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _autocommit(url: sa.URL, *statements: str) -> None:
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as connection:
        for statement in statements:
            connection.exec_driver_sql(statement)
    admin.dispose()


@pytest.fixture
def source(make_site: Callable[..., Site]) -> Site:
    """A capdb with demo data, an account with two-step sign-in, its API token and audit."""
    site = make_site("bksource", own_database=False)
    code, output = site.run("demo", "seed", "--incidents", "30")
    assert code == 0, output
    with site.app.extensions["capdb.db"].sessionmaker.begin() as session:
        user = User(
            email=EMAIL, password_hash=factories.test_password_hash(), role="analyst",
            totp_secret=TEST_TOTP_SECRET, active=True,
        )  # fmt: skip
        session.add(user)
        session.flush()
        _token, value = tokens.create(session, user)
        audit.record(session, "export", user=user, detail={"note": "before the backup"})
    # The key capdb generates when none is configured: sessions need it after a restore.
    (site.instance / "imports").mkdir(parents=True, exist_ok=True)
    (site.instance / "secret_key").write_text("a generated key " + "k" * 48)
    (site.instance / "imports" / "7-kept").write_bytes(b"an upload in progress")
    site.app.config["TEST_TOKEN"] = value
    return site


def every_row(site: Site) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, in a stable order."""
    with site.engine.connect() as connection:
        tables = sa.inspect(connection).get_table_names()
        metadata = sa.MetaData()
        rows = {}
        for name in sorted(tables):
            table = sa.Table(name, metadata, autoload_with=connection)
            found = connection.execute(sa.select(table)).all()
            rows[name] = sorted((tuple(row) for row in found), key=repr)
        return rows


def audit_head(site: Site) -> str | None:
    with site.app.extensions["capdb.db"].sessionmaker() as session:
        newest = audit.check_chain(session).newest
        return None if newest is None else newest.hash


def test_round_trip_is_exact(source: Site, make_site: Callable[..., Site], tmp_path: Path) -> None:
    file = tmp_path / "capdb.tar"
    code, output = source.run("backup", str(file))
    assert code == 0, output
    target = make_site("bktarget", migrated=False)

    code, output = target.run("restore", str(file))

    assert code == 0, output
    assert "checks passed" in output
    assert every_row(target) == every_row(source)
    assert sum(len(rows) for rows in every_row(target).values()) > 100
    assert audit_head(target) == audit_head(source) is not None
    assert (target.instance / "secret_key").read_text() == (
        source.instance / "secret_key"
    ).read_text()
    assert (target.instance / "imports" / "7-kept").read_bytes() == b"an upload in progress"
    client = target.app.test_client()
    sign_in(client, EMAIL)
    assert signed_in(client)
    headers = {"Authorization": f"Bearer {source.app.config['TEST_TOKEN']}"}
    assert target.app.test_client().get("/api/v1/incidents", headers=headers).status_code == 200


def test_search_folds_accents_after_a_restore_into_a_new_database(
    source: Site, make_site: Callable[..., Site], tmp_path: Path, backend: str
) -> None:
    """On PostgreSQL the dump names ``capdb_ext.unaccent``, which a new database lacks: the
    restore makes it first, and the index restored and the one written after both fold
    accents."""
    with source.app.extensions["capdb.db"].sessionmaker.begin() as session:
        restored, written = session.scalars(sa.select(Incident).order_by(Incident.id).limit(2))
        restored.narrative = "Sabotage de la génératrice du camp"
        references = {restored.reference, written.reference}
        written_id = written.id
    file = tmp_path / "capdb.tar"
    assert source.run("backup", str(file))[0] == 0
    target = make_site("bksearch", migrated=False)

    code, output = target.run("restore", str(file))

    assert code == 0, output
    with target.app.extensions["capdb.db"].sessionmaker.begin() as session:
        session.get_one(Incident, written_id).narrative = "Vol de la génératrice de secours"
    with target.app.extensions["capdb.db"].sessionmaker() as session:
        user = session.scalars(sa.select(User).where(User.email == EMAIL)).one()
        found = session.scalars(
            sa.select(Incident.reference).where(search.matches(user, "generatrice"))
        )
        assert set(found) == references
    if backend == "postgresql":
        with tarfile.open(file) as tar:
            manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
        assert manifest["database"]["extensions"] == ["unaccent"]


def test_the_backup_holds_one_copy_of_the_database_and_not_the_backups(
    source: Site, backend: str
) -> None:
    (source.instance / "backups").mkdir()
    (source.instance / "backups" / "older.tar").write_bytes(b"an older backup")
    assert source.run("backup", str(source.instance / "made-by-hand.tar"))[0] == 0
    file = source.instance / "now.tar"
    code, output = source.run("backup", str(file))
    assert code == 0, output
    with tarfile.open(file) as tar:
        names = tar.getnames()
    dump = "database.sqlite" if backend == "sqlite" else "database.dump"
    assert names[0] == "manifest.json"
    assert sorted(names[1:]) == sorted([dump, "instance/imports/7-kept", "instance/secret_key"])


def test_restore_refuses_a_database_holding_data_without_force(
    source: Site, make_site: Callable[..., Site], tmp_path: Path
) -> None:
    file = tmp_path / "capdb.tar"
    assert source.run("backup", str(file))[0] == 0
    target = make_site("bkbusy")
    assert target.run("demo", "seed", "--incidents", "5")[0] == 0
    before = every_row(target)

    code, output = target.run("restore", str(file))

    assert code != 0
    assert "already holds data" in output
    assert "--force" in output
    assert every_row(target) == before
    code, output = target.run("restore", str(file), "--force")
    assert code == 0, output
    assert every_row(target) == every_row(source)


@pytest.mark.parametrize("damage", ["truncated", "altered"])
def test_a_damaged_backup_is_refused_and_nothing_changes(
    source: Site, make_site: Callable[..., Site], tmp_path: Path, damage: str
) -> None:
    file = tmp_path / "capdb.tar"
    assert source.run("backup", str(file))[0] == 0
    data = bytearray(file.read_bytes())
    if damage == "truncated":
        data = data[: len(data) // 2]
    else:
        data[len(data) // 2] ^= 0xFF
    file.write_bytes(bytes(data))
    target = make_site("bkdamaged")
    assert target.run("demo", "seed", "--incidents", "5")[0] == 0
    before = every_row(target)

    for command_line in (["restore", str(file), "--force"], ["backup", "verify", str(file)]):
        code, output = target.run(*command_line)
        assert code != 0
        assert "damaged" in output or "truncated" in output, output
        assert "Traceback" not in output
    assert every_row(target) == before
    assert not (target.instance / "imports").exists()


def rewrite_manifest(file: Path, change: Callable[[dict[str, object]], None]) -> None:
    """Change the manifest of a backup file, leaving its other members as they are."""
    with tarfile.open(file) as tar:
        members = [(member, tar.extractfile(member)) for member in tar.getmembers()]
        contents = [(m, f.read() if f else b"") for m, f in members]
    manifest = json.loads(contents[0][1])
    change(manifest)
    data = json.dumps(manifest).encode()
    contents[0][0].size = len(data)
    contents[0] = (contents[0][0], data)
    with tarfile.open(file, "w") as tar:
        for member, content in contents:
            tar.addfile(member, io.BytesIO(content))


def test_verify_passes_on_a_good_backup_and_fails_on_a_tampered_manifest(
    source: Site, tmp_path: Path
) -> None:
    file = tmp_path / "capdb.tar"
    assert source.run("backup", str(file))[0] == 0
    code, output = source.run("backup", "verify", str(file))
    assert code == 0, output
    assert "is a good backup" in output

    def fewer_incidents(manifest: dict[str, object]) -> None:
        manifest["row_counts"]["incidents"] -= 1  # type: ignore[index]

    rewrite_manifest(file, fewer_incidents)
    code, output = source.run("backup", "verify", str(file))
    assert code != 0
    assert "table incidents: 30 rows, the manifest says 29" in output

    def another_head(manifest: dict[str, object]) -> None:
        manifest["row_counts"]["incidents"] += 1  # type: ignore[index]
        manifest["facts"]["audit_head"] = "f" * 64  # type: ignore[index]

    rewrite_manifest(file, another_head)
    code, output = source.run("backup", "verify", str(file))
    assert code != 0
    assert "audit_head" in output
    assert "table incidents" not in output


def test_a_backup_from_a_newer_capdb_is_refused(
    source: Site, make_site: Callable[..., Site], tmp_path: Path
) -> None:
    file = tmp_path / "capdb.tar"
    assert source.run("backup", str(file))[0] == 0
    rewrite_manifest(file, lambda manifest: manifest.update(alembic_revision="ffffffffffff"))
    target = make_site("bknewer", migrated=False)

    code, output = target.run("restore", str(file))

    assert code != 0
    assert "made by a newer capdb" in output
    with target.engine.connect() as connection:
        assert sa.inspect(connection).get_table_names() == []


def test_periodic_backups_keep_the_newest(source: Site, tmp_path: Path) -> None:
    folder = tmp_path / "backups"
    folder.mkdir()
    (folder / "notes.txt").write_text("not a backup: never removed")
    config = source.app.extensions["capdb.config"]
    source.app.extensions["capdb.config"] = config.replace(backup_dir=str(folder), backup_keep=2)

    written = [periodic_backup(source.app) for _ in range(3)]

    assert sorted(path.name for path in folder.iterdir()) == sorted(
        ["notes.txt", written[1].name, written[2].name]
    )
    code, output = source.run("backup", "verify", str(written[2]))
    assert code == 0, output


def test_a_backup_from_an_older_capdb_is_migrated_after_restore(
    source: Site, make_site: Callable[..., Site], tmp_path: Path
) -> None:
    with source.app.app_context():
        command.downgrade(alembic_config(), "-1")
        older = current_revision(source)
    file = tmp_path / "capdb.tar"
    assert source.run("backup", str(file))[0] == 0
    target = make_site("bkolder", migrated=False)

    code, output = target.run("restore", str(file))

    assert code == 0, output
    assert "migrated" in output
    with target.app.app_context():
        assert (
            current_revision(target)
            == ScriptDirectory.from_config(alembic_config()).get_current_head()
        )
    assert current_revision(target) != older
    restored = every_row(target)
    assert len(restored["incidents"]) == len(every_row(source)["incidents"]) == 30


def current_revision(site: Site) -> str | None:
    with site.engine.connect() as connection:
        revision: str | None = connection.exec_driver_sql(
            "SELECT version_num FROM alembic_version"
        ).scalar()
        return revision


def test_restore_fails_loudly_when_the_audit_trail_does_not_hold(
    source: Site, make_site: Callable[..., Site], tmp_path: Path, backend: str
) -> None:
    # Someone with the database's owner rights edited an entry behind the triggers' back.
    with source.engine.begin() as connection:
        if backend == "sqlite":
            connection.exec_driver_sql("DROP TRIGGER audit_events_no_update")
        else:
            connection.exec_driver_sql("ALTER TABLE audit_events DISABLE TRIGGER USER")
        connection.exec_driver_sql("UPDATE audit_events SET actor = 'someone else'")
    file = tmp_path / "capdb.tar"
    assert source.run("backup", str(file))[0] == 0
    target = make_site("bktampered", migrated=False)

    code, output = target.run("restore", str(file))

    assert code != 0
    assert "FAILED its checks" in output
    assert "audit verify" in output
    assert "altered" in output
    code, output = target.run("backup", "verify", str(file))
    assert code != 0
    assert "audit verify" in output


def test_a_backup_taken_while_capdb_writes_is_consistent(source: Site, tmp_path: Path) -> None:
    existing = len(every_row(source)["audit_events"])
    stop = threading.Event()
    written: list[int] = []

    def keep_writing() -> None:
        while not stop.is_set():
            with source.app.extensions["capdb.db"].sessionmaker.begin() as session:
                entry = audit.record(session, "export", detail={"n": len(written)})
            written.append(entry.id)  # committed

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        while len(written) < 5:
            time.sleep(0.01)
        file = tmp_path / "capdb.tar"
        code, output = source.run("backup", str(file))
    finally:
        stop.set()
        writer.join()
    assert code == 0, output
    before = len(written)
    code, output = source.run("backup", "verify", str(file))
    assert code == 0, output
    with tarfile.open(file) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
    # The backup holds the entries written before it, and perhaps some written during it.
    assert existing + 5 <= manifest["row_counts"]["audit_events"] <= existing + before


def test_the_backup_settings(tmp_path: Path) -> None:
    config = Config.from_env({"CAPDB_INSTANCE_PATH": str(tmp_path)})
    assert config.resolved_backup_dir == tmp_path / "backups"
    assert config.backup_keep == 7
    config = Config.from_env({"CAPDB_BACKUP_DIR": "/srv/backups", "CAPDB_BACKUP_KEEP": "30"})
    assert config.resolved_backup_dir == Path("/srv/backups")
    assert config.backup_keep == 30
    with pytest.raises(ConfigError, match="CAPDB_BACKUP_KEEP"):
        Config.from_env({"CAPDB_BACKUP_KEEP": "0"})


def test_verify_into_a_scratch_database_given(
    source: Site, make_site: Callable[..., Site], tmp_path: Path
) -> None:
    file = tmp_path / "capdb.tar"
    assert source.run("backup", str(file))[0] == 0
    scratch = make_site("bkscratch", migrated=False)
    url = scratch.engine.url.render_as_string(hide_password=False)

    code, output = source.run("backup", "verify", str(file), "--scratch-url", url)

    assert code == 0, output
    assert every_row(scratch) == every_row(source)
    code, output = source.run("backup", "verify", str(file), "--scratch-url", url)
    assert code != 0
    assert "the scratch database holds data" in output
