"""Looking after the files, on both storages: ``files verify`` finds a changed byte and a
missing file, the sweep deletes only old orphans, and the text job reads each kind of
document for the search, which finds a record by it only for those who may download it."""

from __future__ import annotations

import hashlib
import os
import time
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy.orm import Session

from incidents.attachments import search, service, text, upkeep
from incidents.attachments.intake import OOXML
from incidents.attachments.models import AttachmentFile
from incidents.attachments.storage import LocalStorage, S3Storage, Storage
from incidents.filters import IncidentFilters, listed_incidents, scoped_incidents
from incidents.models import Incident
from tests.api.conftest import ApiAs, World, json_of
from tests.attachments import samples
from tests.attachments.helpers import kept, send
from tests.factories import UserFactory


def tamper(storage: Storage, sha256: str, data: bytes) -> None:
    """Change a kept file behind capdb's back."""
    if isinstance(storage, LocalStorage):
        storage.path(sha256).write_bytes(data)
    else:
        assert isinstance(storage, S3Storage)
        storage.client.put_object(Bucket=storage.bucket, Key=storage.key(sha256), Body=data)


def test_files_verify_finds_a_changed_byte_and_a_missing_file(
    app: Flask, cli: FlaskCliRunner, api_as: ApiAs, world: World
) -> None:
    officer = api_as("mission", missions=("MINUSMA",))
    first = json_of(
        send(officer, f"/incidents/{world.mali.id}/attachments", samples.pdf(), "a.pdf")
    )
    second = json_of(
        send(officer, f"/incidents/{world.mali.id}/attachments", samples.csv(), "b.csv")
    )
    world_file = "0" * 64  # the world's attachment names a file no storage has
    intact = cli.invoke(args=["files", "verify"])
    assert intact.exit_code == 1
    assert (
        intact.output.splitlines()[0]
        == f"missing: {world_file} (attachment {world.congo_attachment.id})"
    )
    assert "3 files checked" in intact.output

    changed = bytearray(samples.pdf())
    changed[100] ^= 0x01
    tamper(kept(app), first["sha256"], bytes(changed))
    kept(app).delete(second["sha256"])
    broken = cli.invoke(args=["files", "verify"])
    assert broken.exit_code == 1
    lines = broken.output.splitlines()
    assert (
        f"changed: {first['sha256']} (attachment {first['id']}) now hashes to "
        f"{hashlib.sha256(changed).hexdigest()}" in lines
    )
    assert f"missing: {second['sha256']} (attachment {second['id']})" in lines
    assert "3 files are missing or changed" in broken.output


def test_the_sweep_deletes_only_old_files_no_attachment_names(
    app: Flask, db: Session, api_as: ApiAs, world: World
) -> None:
    officer = api_as("mission", missions=("MINUSMA",))
    named = json_of(
        send(officer, f"/incidents/{world.mali.id}/attachments", samples.csv(), "a.csv")
    )
    storage = kept(app)
    orphan = storage.staging_folder() / "orphan.partial"
    orphan.write_bytes(b"left by a failed transaction")
    orphan_sha = hashlib.sha256(orphan.read_bytes()).hexdigest()
    storage.put(orphan_sha, orphan)
    leftover = storage.staging_folder() / "old.partial"
    leftover.write_bytes(b"an upload cut short")
    os.utime(leftover, (0, 0))
    assert upkeep.sweep(db, storage, older_than=timedelta(hours=1)) == []
    assert storage.exists(orphan_sha)
    assert not leftover.exists()
    assert upkeep.sweep(db, storage, older_than=timedelta(0)) == [orphan_sha]
    assert not storage.exists(orphan_sha)
    assert storage.exists(named["sha256"])
    # A file kept again (the same content uploaded anew) is young again.
    stored_at = dict(storage.stored())[named["sha256"]]
    time.sleep(1.1)
    again = storage.staging_folder() / "again.partial"
    again.write_bytes(samples.csv())
    storage.put(named["sha256"], again)
    assert dict(storage.stored())[named["sha256"]] > stored_at
    assert not again.exists()


@pytest.mark.parametrize(
    ("data", "media_type", "words"),
    [
        (samples.pdf("Judgment of the court of Gao"), "application/pdf", "court of Gao"),
        (samples.docx("Police report of the convoy"), OOXML + "wordprocessingml.document",
         "report of the convoy"),
        (samples.xlsx("Witness list"), OOXML + "spreadsheetml.sheet", "Witness list"),
        (samples.csv(), "text/csv", "convoy attacked"),
    ],
    ids=["pdf", "docx", "xlsx", "csv"],
)  # fmt: skip
def test_the_words_of_each_kind_of_document(
    tmp_path: Path, storage_kind: str, data: bytes, media_type: str, words: str
) -> None:
    if storage_kind == "s3":
        return  # reading a file does not depend on where it is kept: once is enough
    path = tmp_path / "file"
    path.write_bytes(data)
    found = text.extract(path, media_type)
    assert found is not None
    assert words in found


def test_the_text_job_fills_the_search_for_those_who_may_download(
    app: Flask, db: Session, api_as: ApiAs, make_user: UserFactory, world: World
) -> None:
    officer = api_as("mission", missions=("MINUSMA",))
    path = f"/incidents/{world.mali.id}/attachments"
    public = json_of(send(officer, path, samples.pdf("Arrest of the suspect"), "a.pdf"))
    secret = json_of(
        send(officer, path, samples.docx("Names of the witnesses"), "b.docx", personal_data=True)
    )
    photo = json_of(send(officer, path, samples.photo(), "c.jpg"))
    ids = [public["id"], secret["id"], photo["id"]]
    # The task as the worker runs it: in an application context of its own, committed.
    task = app.extensions["capdb.tasks"][service.TEXT_TASK]
    files = db.scalars(sa.select(AttachmentFile).where(AttachmentFile.attachment_id.in_(ids)))
    for file_id in [f.id for f in files]:
        task.call_local(file_id)
    db.expire_all()
    states = {
        f.attachment_id: (f.text_state, f.text)
        for f in db.scalars(sa.select(AttachmentFile).where(AttachmentFile.attachment_id.in_(ids)))
    }
    assert states[public["id"]][0] == "done"
    assert "Arrest of the suspect" in (states[public["id"]][1] or "")
    assert states[secret["id"]][0] == "done"
    assert states[photo["id"]] == ("none", None)

    def finds(user_role: str, words: str, **bindings: object) -> bool:
        user = make_user(user_role, **bindings)
        ids = db.scalars(search.incidents_matching(user, words)).all()
        return world.mali.id in ids

    assert finds("analyst", "arrest SUSPECT")
    assert not finds("analyst", "arrest nobody")
    assert finds("admin", "witnesses")
    assert not finds("analyst", "witnesses")  # personal data: not for an analyst's search
    assert not finds("member_state", "witnesses", state="TCD")

    # The incident filter's search (list, map, trends, exports, API) finds it the same way.
    def searched(user_role: str, words: str, **bindings: object) -> bool:
        user = make_user(user_role, **bindings)
        filters, errors = IncidentFilters.parse(db, {"q": words})
        assert not errors
        found = [
            set(db.scalars(query(user, filters).with_only_columns(Incident.id)))
            for query in (scoped_incidents, listed_incidents)
        ]
        assert found[0] == found[1]
        return world.mali.id in found[0]

    assert searched("analyst", "arrest suspect")
    assert searched("member_state", "arrest suspect", state="TCD")
    assert not searched("analyst", "witnesses")
    assert searched("admin", "witnesses")
    assert not searched("member_state", "witnesses", state="TCD")
    assert not searched("member_state", "arrest suspect", state="BRA")  # not its incident
