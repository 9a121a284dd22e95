"""The reconciliation page: capdb's fatalities from malicious acts beside the UN's, per
mission and year, the casualties each side lacks, the explanations, the export; and the
loading of the UN's data (HQ analysts and admins)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from auth import audit
from auth.access import requires, viewer
from capdb import db
from capdb.downloads import attachment
from capdb.i18n import current_locale
from capdb.reference import missions_among
from capdb.safe_redirect import safe_next
from incidents import policy, policy_reconciliation
from incidents.errors import InputError, StaleEditError
from incidents.reconciliation import matching, notes, un_data
from incidents.reconciliation.options import options_from, reconciliation_csv

bp = Blueprint(
    "reconciliation", __name__, template_folder="templates", url_prefix="/reconciliation"
)
INVALID = 422


@bp.get("/")
@requires(policy_reconciliation.may_reconcile)
def index() -> tuple[str, int]:
    options, errors = options_from(request.args)
    session, user = db.session(), viewer()
    result = None if errors else matching.reconcile(session, user, options)
    page = render_template(
        "reconciliation/index.html",
        result=result,
        options=options,
        errors=errors,
        args=request.args,
        missions=missions_among(session, policy.missions_seen(user)),
        may_load=policy_reconciliation.may_load_un_figures(user),
        may_explain=policy_reconciliation.may_explain(user),
        locale=current_locale(),
    )
    return page, 400 if errors else 200


@bp.get("/export.csv")
@requires(policy_reconciliation.may_reconcile)
def export() -> Response:
    options, errors = options_from(request.args)
    if errors:
        abort(400)
    session, user = db.session(), viewer()
    result = matching.reconcile(session, user, options)
    audit.record(
        session, "export", user=user, target_type="reconciliation",
        detail={"format": "csv", "rows": len(result.rows), "query": dict(request.args)},
    )  # fmt: skip
    return attachment(reconciliation_csv(result).encode(), "text/csv", "capdb-reconciliation.csv")


@bp.post("/upload")
@requires(policy_reconciliation.may_load_un_figures)
def upload() -> Response:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash(_("Choose the UN's CSV file."), "error")
        return redirect(url_for("reconciliation.index"))
    try:
        loaded = un_data.load_un_figures(db.session(), upload.read(), upload.filename, by=viewer())
    except InputError as error:
        db.session().rollback()
        for where, reason in list(error.problems.items())[:10]:
            flash(f"{where}: {reason}", "error")
        return redirect(url_for("reconciliation.index"))
    flash(_("The UN's data was loaded: %(rows)d casualties, %(malicious)d from malicious acts.",
            rows=loaded.rows, malicious=loaded.malicious), "info")  # fmt: skip
    return redirect(url_for("reconciliation.index"))


@bp.post("/notes")
@requires(policy_reconciliation.may_explain)
def explain() -> Response:
    form = request.form
    version = form.get("version") or ""
    key = notes.NoteKey(
        mission=(form.get("mission") or "").strip(),
        year=int(form["year"]) if (form.get("year") or "").isdigit() else 0,
        nationality=(form.get("nationality") or "").strip().upper(),
        personnel_type=(form.get("personnel_type") or "").strip(),
    )
    try:
        notes.explain(
            db.session(), key, form.get("text") or "", by=viewer(),
            expected_version=int(version) if version.isdigit() else None,
        )  # fmt: skip
    except StaleEditError:
        db.session().rollback()
        flash(_("Someone else changed this explanation meanwhile; nothing was saved."), "error")
    except InputError as error:
        db.session().rollback()
        for reason in error.problems.values():
            flash(reason, "error")
    else:
        flash(_("The explanation was saved."), "info")
    return redirect(safe_next(form.get("back"), "reconciliation.index"))
