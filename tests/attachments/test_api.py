"""Attachments through the API, on local storage and on S3 alike: upload, list, download,
versions, details, deletion and restoration, and every refusal of a file."""

from __future__ import annotations

import hashlib

import pytest
import sqlalchemy as sa
from flask import Flask
from PIL import ExifTags
from sqlalchemy.orm import Session

from auth.models import AuditEvent
from incidents.attachments.models import Attachment
from tests.api.conftest import ApiAs, World, errors_of, json_of
from tests.attachments import samples
from tests.attachments.helpers import fetch, kept, send, staged_files

FIELDS = {"id", "title", "kind", "media_type", "size", "sha256", "version", "personal_data"}


def test_an_upload_answers_201_with_the_file_and_streams_back_unchanged(
    app: Flask, db: Session, api_as: ApiAs, world: World
) -> None:
    officer = api_as("mission", missions=("MINUSMA",))
    data = samples.pdf()
    created = send(
        officer,
        f"/incidents/{world.mali.id}/attachments",
        data,
        "rapport police.pdf",
        title="Police report",
        kind="report",
    )
    assert created.status_code == 201, created.json
    body = json_of(created)
    assert set(body) >= FIELDS
    assert body["title"] == "Police report"
    assert body["kind"] == "report"
    assert body["media_type"] == "application/pdf"
    assert body["size"] == len(data)
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    assert body["version"] == 1
    assert body["personal_data"] is False
    assert kept(app).exists(body["sha256"])

    listed = json_of(officer.get(f"/incidents/{world.mali.id}/attachments"))["items"]
    assert [item["id"] for item in listed] == [body["id"]]

    download = fetch(officer, f"/attachments/{body['id']}/content")
    assert download.status_code == 200
    assert download.data == data
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Content-Length"] == str(len(data))
    assert download.headers["Content-Disposition"] == 'attachment; filename="rapport police.pdf"'
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Content-Security-Policy"].startswith("default-src 'none'; sandbox")
    assert download.headers["Cache-Control"] == "no-store"
    exports = db.scalars(
        sa.select(AuditEvent).filter_by(action="export", target_type="attachments")
    ).all()
    assert [(e.target_id, e.detail["sha256"]) for e in exports] == [
        (str(body["id"]), body["sha256"])
    ]
    assert staged_files(app) == []


def test_a_case_and_a_stage_event_take_attachments_too(api_as: ApiAs, world: World) -> None:
    mali = api_as("member_state", state="MLI")  # the prosecuting State
    on_case = send(
        mali,
        f"/cases/{world.mali_case.id}/attachments",
        samples.docx(),
        "acte.docx",
        kind="judgment",
    )
    on_event = send(mali, f"/stage-events/{world.event.id}/attachments", samples.csv(), "a.csv")
    assert on_case.status_code == on_event.status_code == 201
    assert json_of(on_case)["media_type"].endswith("wordprocessingml.document")
    assert json_of(on_case)["title"] == "acte"
    assert json_of(on_event)["media_type"] == "text/csv"
    assert json_of(on_event)["kind"] == "other"
    events = json_of(mali.get(f"/stage-events/{world.event.id}/attachments"))["items"]
    assert [e["stage_event"] for e in events] == [world.event.id]
    analyst = api_as("analyst")  # sees the validated incident, its case and events
    assert len(json_of(analyst.get(f"/cases/{world.mali_case.id}/attachments"))["items"]) == 1
    refused = send(analyst, f"/cases/{world.mali_case.id}/attachments", samples.csv(), "x.csv")
    assert refused.status_code == 403


def test_replacing_keeps_every_version_downloadable(api_as: ApiAs, world: World) -> None:
    officer = api_as("mission", missions=("MINUSMA",))
    first = json_of(
        send(officer, f"/incidents/{world.mali.id}/attachments", samples.pdf("one"), "v1.pdf")
    )
    path = f"/attachments/{first['id']}"
    second = send(
        officer, f"{path}/versions", samples.pdf("two"), "v2.pdf", revision=first["revision"]
    )
    assert second.status_code == 201, second.json
    detail = json_of(second)
    assert detail["version"] == 2
    assert [v["number"] for v in detail["versions"]] == [1, 2]
    assert fetch(officer, f"{path}/content").data == samples.pdf("two")
    assert fetch(officer, f"{path}/content?version=1").data == samples.pdf("one")
    assert fetch(officer, f"{path}/content?version=3").status_code == 404
    # A replacement made on the first revision, after the second: refused, nothing kept.
    stale = send(
        officer, f"{path}/versions", samples.pdf("three"), "v3.pdf", revision=first["revision"]
    )
    assert stale.status_code == 409
    assert json_of(stale)["current"]["version"] == 2


def test_details_change_on_the_current_revision_only(api_as: ApiAs, world: World) -> None:
    officer = api_as("mission", missions=("MINUSMA",))
    made = json_of(send(officer, f"/incidents/{world.mali.id}/attachments", samples.csv(), "a.csv"))
    path = f"/attachments/{made['id']}"
    changed = officer.patch(
        path,
        json={
            "title": "Arrests",
            "kind": "report",
            "personal_data": True,
            "revision": made["revision"],
        },
    )
    assert changed.status_code == 200, changed.json
    assert json_of(changed)["personal_data"] is True
    assert json_of(changed)["revision"] == made["revision"] + 1
    stale = officer.patch(path, json={"title": "Again", "revision": made["revision"]})
    assert stale.status_code == 409
    bad = officer.patch(path, json={"title": "", "kind": "poem", "revision": 2})
    assert bad.status_code == 422
    assert set(errors_of(bad)) == {"kind"}


def test_deleting_is_soft_and_the_keepers_restore(db: Session, api_as: ApiAs, world: World) -> None:
    mali = api_as("member_state", state="MLI")
    made = json_of(send(mali, f"/cases/{world.mali_case.id}/attachments", samples.csv(), "a.csv"))
    path = f"/attachments/{made['id']}"
    assert mali.delete(f"{path}?revision=99").status_code == 409
    assert mali.delete(f"{path}?revision={made['revision']}").status_code == 204
    assert mali.get(path).status_code == 404  # out of the uploader's sight now
    assert json_of(mali.get(f"/cases/{world.mali_case.id}/attachments"))["items"] == []
    officer = api_as("mission", missions=("MINUSMA",))  # keeps the case
    assert json_of(officer.get(path))["deleted"] is True
    restored = officer.post(f"{path}/restore")
    assert restored.status_code == 200
    assert json_of(restored)["deleted"] is False
    assert mali.get(path).status_code == 200
    assert db.get_one(Attachment, made["id"]).deleted_at is None


@pytest.mark.parametrize(
    ("data", "name", "reason"),
    [
        (samples.program(), "judgment.pdf", "is a program"),
        (samples.windows_program(), "photo.jpg", "is a program"),
        (samples.web_page(), "report.txt", "text/html"),
        (samples.pdf()[:-200], "cut.pdf", "incomplete"),
        (samples.photo()[:300], "broken.jpg", "damaged"),
        (samples.docx()[:-40], "broken.docx", "damaged"),
        (b"", "empty.pdf", "empty"),
    ],
    ids=["elf", "exe", "html", "truncated-pdf", "broken-image", "broken-docx", "empty"],
)
def test_a_refused_file_answers_422_naming_the_reason_and_leaves_nothing(
    app: Flask, db: Session, api_as: ApiAs, world: World, data: bytes, name: str, reason: str
) -> None:
    officer = api_as("mission", missions=("MINUSMA",))
    before = list(kept(app).stored())
    answer = send(officer, f"/incidents/{world.mali.id}/attachments", data, name)
    assert answer.status_code == 422
    assert reason in " ".join(errors_of(answer)["file"])
    assert db.scalars(sa.select(Attachment).filter_by(incident_id=world.mali.id)).all() == []
    assert list(kept(app).stored()) == before
    assert staged_files(app) == []


@pytest.mark.parametrize("app_config", [{"max_upload_mb": 1}], indirect=True)
def test_a_file_over_the_limit_is_refused(app: Flask, api_as: ApiAs, world: World) -> None:
    officer = api_as("mission", missions=("MINUSMA",))
    # Within the request's limit (1 MB and the form) but over the file's: read, then refused.
    slightly = b"a,b\n" + b"1,2\n" * (300 * 1024)
    answer = send(officer, f"/incidents/{world.mali.id}/attachments", slightly, "big.csv")
    assert answer.status_code == 422
    assert "larger than 1 MB" in errors_of(answer)["file"][0]
    # Announcing more than the request may hold: refused before the body is read.
    huge = b"a,b\n" + b"1,2\n" * (600 * 1024)
    answer = send(officer, f"/incidents/{world.mali.id}/attachments", huge, "huge.csv")
    assert answer.status_code == 422
    assert staged_files(app) == []


@pytest.mark.parametrize("image_format", ["JPEG", "PNG", "WEBP", "TIFF"])
def test_an_image_loses_its_gps_unless_kept_on_purpose(
    api_as: ApiAs, world: World, image_format: str
) -> None:
    officer = api_as("mission", missions=("MINUSMA",))
    original = samples.photo(image_format)
    assert samples.gps_of(original)
    stripped = json_of(send(officer, f"/incidents/{world.mali.id}/attachments", original, "scene"))
    kept_data = json_of(
        send(
            officer,
            f"/incidents/{world.mali.id}/attachments",
            original,
            "scene",
            keep_metadata=True,
        )
    )
    clean = fetch(officer, f"/attachments/{stripped['id']}/content").data
    assert samples.gps_of(clean) == {}
    # Who took it with what is gone too (a TIFF keeps only its own structure's tags).
    assert not {ExifTags.Base.Make, ExifTags.Base.Model} & set(samples.exif_of(clean))
    assert stripped["sha256"] == hashlib.sha256(clean).hexdigest() != kept_data["sha256"]
    as_sent = fetch(officer, f"/attachments/{kept_data['id']}/content").data
    assert as_sent == original
    assert samples.gps_of(as_sent)
    assert json_of(officer.get(f"/attachments/{kept_data['id']}"))["versions"][0]["metadata_kept"]


def test_a_name_is_made_safe_and_its_extension_follows_the_content(
    api_as: ApiAs, world: World
) -> None:
    officer = api_as("mission", missions=("MINUSMA",))
    answer = send(
        officer,
        f"/incidents/{world.mali.id}/attachments",
        b"just words\n",
        "../../etc/<jugement>: décembre?.html",
    )
    body = json_of(answer)
    assert body["filename"] == "_jugement_ décembre_.txt"
    download = fetch(officer, f"/attachments/{body['id']}/content")
    assert download.headers["Content-Disposition"] == (
        'attachment; filename="_jugement_ decembre_.txt"; '
        "filename*=UTF-8''_jugement_%20d%C3%A9cembre_.txt"
    )
    assert download.headers["Content-Type"] == "text/plain"


def test_the_upload_form_is_validated_field_by_field(api_as: ApiAs, world: World) -> None:
    officer = api_as("mission", missions=("MINUSMA",))
    path = f"/incidents/{world.mali.id}/attachments"
    missing = officer.post(path, data={"title": "x"}, content_type="multipart/form-data")
    assert missing.status_code == 422
    assert "file" in errors_of(missing)
    wrong = send(officer, path, samples.csv(), "a.csv", kind="poem", title="x" * 201)
    assert wrong.status_code == 422
    assert set(errors_of(wrong)) == {"kind", "title"}
    text_for_file = officer.post(
        path, data={"file": "not a file"}, content_type="multipart/form-data"
    )
    assert text_for_file.status_code == 422
