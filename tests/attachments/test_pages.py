"""The attachment pages: uploading without JavaScript (several files, all or nothing) and
as the page's script does (one file per request, JSON answers), the document's page,
personal data hidden, the links from the records, and the case dossier's list of files."""

from __future__ import annotations

import hashlib
import io
import re

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from incidents.attachments.models import Attachment
from tests.api.conftest import World
from tests.attachments import samples
from tests.attachments.helpers import staged_files
from tests.factories import LoginAs
from tests.test_i18n import csrf_token


def post_files(
    client: FlaskClient, url: str, files: list[tuple[bytes, str]], **fields: str
) -> TestResponse:
    token = csrf_token(client.get(url).text)
    data = {"csrf_token": token, "kind": "report", **fields}
    data["file"] = [(io.BytesIO(body), name) for body, name in files]  # type: ignore[assignment]
    return client.post(url, data=data, content_type="multipart/form-data")


def on_incident(db: Session, world: World) -> int:
    return len(db.scalars(sa.select(Attachment).filter_by(incident_id=world.mali.id)).all())


def download(client: FlaskClient, url: str) -> TestResponse:
    response = client.get(url)
    response.get_data()
    response.close()
    return response


def test_several_files_are_attached_at_once_without_javascript(
    app: Flask, client: FlaskClient, db: Session, login_as: LoginAs, world: World
) -> None:
    login_as("mission", missions=("MINUSMA",))
    url = f"/incidents/{world.mali.id}/attachments"
    page = client.get(url)
    assert page.status_code == 200
    assert 'src="/static/js/attachments.js' in page.text
    assert "<script>" not in page.text
    answer = post_files(client, url, [(samples.pdf(), "a.pdf"), (samples.csv(), "b.csv")])
    assert answer.status_code == 302
    listed = client.get(url).text
    assert "a.pdf" in listed
    assert "b.csv" in listed
    assert on_incident(db, world) == 2
    # One refused file among good ones: nothing is attached, and the reason is shown.
    refused = post_files(client, url, [(samples.pdf(), "c.pdf"), (samples.program(), "d.pdf")])
    assert refused.status_code == 422
    assert "d.pdf: This file is a program" in refused.text
    assert on_incident(db, world) == 2
    assert staged_files(app) == []
    detail = client.get(f"/incidents/{world.mali.id}").text
    assert f'href="{url}"' in detail


def test_the_page_script_sends_one_file_and_reads_json(
    client: FlaskClient, login_as: LoginAs, world: World
) -> None:
    login_as("mission", missions=("MINUSMA",))
    url = f"/incidents/{world.mali.id}/attachments"
    token = csrf_token(client.get(url).text)
    headers = {"Accept": "application/json"}
    good = client.post(
        url,
        data={"csrf_token": token, "kind": "photo", "file": (io.BytesIO(samples.photo()), "x.jpg")},
        headers=headers,
    )
    assert good.status_code == 201
    assert good.json is not None
    assert good.json["attached"][0]["url"].startswith("/attachments/")
    bad = client.post(
        url,
        data={"csrf_token": token, "kind": "photo", "file": (io.BytesIO(b"MZ" + bytes(300)), "y")},
        headers=headers,
    )
    assert bad.status_code == 422
    assert bad.json is not None
    assert "program" in bad.json["errors"]["file"]


def test_the_document_page_replaces_deletes_and_restores(
    client: FlaskClient, db: Session, login_as: LoginAs, world: World
) -> None:
    login_as("mission", missions=("MINUSMA",))
    url = f"/cases/{world.mali_case.id}/attachments"
    post_files(client, url, [(samples.pdf("first"), "j.pdf")], title="Judgment")
    attachment = db.scalars(sa.select(Attachment).filter_by(case_id=world.mali_case.id)).one()
    page = f"/attachments/{attachment.id}"
    token = csrf_token(client.get(page).text)
    replaced = client.post(
        f"{page}/versions",
        data={
            "csrf_token": token,
            "revision": "1",
            "file": (io.BytesIO(samples.pdf("2")), "j2.pdf"),
        },
    )
    assert replaced.status_code == 302
    shown = client.get(page).text
    assert hashlib.sha256(samples.pdf("first")).hexdigest() in shown
    assert hashlib.sha256(samples.pdf("2")).hexdigest() in shown
    old = download(client, f"{page}/versions/1/download")
    assert old.data == samples.pdf("first")
    assert (
        old.headers["Content-Security-Policy"]
        == "default-src 'none'; sandbox; frame-ancestors 'none'"
    )
    stale = client.post(f"{page}/delete", data={"csrf_token": token, "revision": "1"})
    assert stale.status_code == 302
    assert "changed since you opened this page" in client.get(page).text
    assert (
        client.post(f"{page}/delete", data={"csrf_token": token, "revision": "2"}).status_code
        == 302
    )
    assert "Deleted documents" in client.get(url).text
    assert client.post(f"{page}/restore", data={"csrf_token": token}).status_code == 302
    assert db.get_one(Attachment, attachment.id).deleted_at is None
    bad = client.post(page, data={"csrf_token": token, "revision": "3", "title": "", "kind": "x"})
    assert bad.status_code == 422


def test_personal_data_is_hidden_from_those_who_may_not_see_identities(
    client: FlaskClient, db: Session, login_as: LoginAs, world: World
) -> None:
    officer = login_as("mission", missions=("MINUSMA",))
    url = f"/incidents/{world.mali.id}/attachments"
    post_files(client, url, [(samples.csv(), "names.csv")], personal_data="1", title="Names")
    post_files(client, url, [(samples.csv(), "counts.csv")], title="Counts")
    names = db.scalars(sa.select(Attachment).filter_by(title="Names")).one()
    assert names.created_by_id == officer.id
    login_as("member_state", state="TCD")  # a victim's State: sees the incident, not all names
    listed = client.get(url).text
    assert "Counts" in listed
    assert "Names" not in listed
    for path in (f"/attachments/{names.id}", f"/attachments/{names.id}/download"):
        assert client.get(path).status_code == 404
    login_as("admin")
    assert "Names" in client.get(url).text


def test_the_case_dossier_lists_the_files_with_their_hashes(
    client: FlaskClient, login_as: LoginAs, world: World
) -> None:
    login_as("mission", missions=("MINUSMA",))
    post_files(
        client,
        f"/cases/{world.mali_case.id}/attachments",
        [(samples.pdf(), "j.pdf")],
        title="Judgment of Gao",
    )
    post_files(
        client,
        f"/incidents/{world.mali.id}/attachments",
        [(samples.csv(), "r.csv")],
        title="Police report",
    )
    pdf = download(client, f"/cases/{world.mali_case.id}/dossier.pdf")
    assert pdf.status_code == 200, pdf.text[:500]
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    flat = re.sub(r"\s+", "", text)
    assert "JudgmentofGao" in flat
    assert "Policereport" in flat
    assert hashlib.sha256(samples.pdf()).hexdigest() in flat
    assert hashlib.sha256(samples.csv()).hexdigest() in flat
