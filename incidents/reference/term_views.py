"""The admin pages of the vocabularies admins keep and of the countries: labels and names
to change, terms to add, retire and bring back. Admins only."""

from __future__ import annotations

import re

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from auth.access import requires, viewer
from capdb import db
from capdb.reference import Country
from capdb.vocabularies import COUNTRY_KIND, KEPT, Vocabulary
from capdb.vocabulary_terms import VocabularyTerm
from incidents import policy_reference
from incidents.errors import InputError, StaleEditError
from incidents.reference import terms
from incidents.reference.term_forms import CountryForm, NewTermForm, TermForm
from incidents.reference.terms import Labels

bp = Blueprint("reference_admin", __name__, template_folder="templates", url_prefix="/admin")

INVALID = 422
CONFLICT = 409
keeps = requires(policy_reference.may_keep_reference_data)


def vocabulary_or_404(name: str) -> Vocabulary:
    vocabulary = terms.kept_vocabulary(name)
    if vocabulary is None:
        abort(404)
    return vocabulary


def term_or_404(vocabulary: Vocabulary, code: str) -> VocabularyTerm:
    term = terms.term_of(db.session(), vocabulary, code)
    if term is None:
        abort(404)
    return term


@bp.get("/vocabularies")
@keeps
def vocabularies() -> str:
    return render_template("reference/vocabularies.html", vocabularies=KEPT)


def _vocabulary_page(
    vocabulary: Vocabulary,
    new: NewTermForm | None = None,
    edited: tuple[str, TermForm] | None = None,
) -> str:
    rows = []
    for term in terms.terms_of(db.session(), vocabulary):
        if edited is not None and edited[0] == term.code:
            rows.append((term, edited[1]))
            continue
        data = {
            "label_en": term.label_en,
            "label_fr": term.label_fr,
            "retired": term.retired_at is not None,
            "version": str(term.version),
        }
        rows.append((term, TermForm(formdata=None, data=data, prefix=term.code)))
    return render_template(
        "reference/vocabulary.html", vocabulary=vocabulary, rows=rows, new=new or NewTermForm()
    )


@bp.get("/vocabularies/<name>")
@keeps
def vocabulary(name: str) -> str:
    return _vocabulary_page(vocabulary_or_404(name))


@bp.post("/vocabularies/<name>/new")
@keeps
def add_term(name: str) -> Response | tuple[str, int]:
    vocabulary = vocabulary_or_404(name)
    form = NewTermForm()
    if not form.validate_on_submit():
        return _vocabulary_page(vocabulary, new=form), INVALID
    try:
        term = terms.add_term(
            db.session(), vocabulary, form.code.data or "",
            Labels(form.label_en.data or "", form.label_fr.data or ""),
            uniformed=bool(form.uniformed.data), by=viewer(),
        )  # fmt: skip
    except InputError as error:
        form.show(error)
        return _vocabulary_page(vocabulary, new=form), INVALID
    flash(_("The term %(code)s was added.", code=term.code), "info")
    return redirect(url_for("reference_admin.vocabulary", name=name))


@bp.post("/vocabularies/<name>/<code>")
@keeps
def change_term(name: str, code: str) -> Response | tuple[str, int]:
    vocabulary = vocabulary_or_404(name)
    term = term_or_404(vocabulary, code)
    form = TermForm(prefix=code)
    if not form.validate_on_submit():
        return _vocabulary_page(vocabulary, edited=(code, form)), INVALID
    labels = Labels(form.label_en.data or "", form.label_fr.data or "")
    try:
        terms.change_term(
            db.session(), vocabulary, term, labels, retired=bool(form.retired.data), by=viewer(),
            expected_version=form.expected_version(),
        )  # fmt: skip
    except StaleEditError:
        db.session().rollback()
        flash(_("Someone else changed this term meanwhile; nothing was saved."), "error")
        return _vocabulary_page(vocabulary), CONFLICT
    except InputError as error:
        form.show(error)
        return _vocabulary_page(vocabulary, edited=(code, form)), INVALID
    flash(_("The term %(code)s was saved.", code=code), "info")
    return redirect(url_for("reference_admin.vocabulary", name=name))


@bp.get("/countries")
@keeps
def countries() -> str:
    rows = db.session().scalars(sa.select(Country).order_by(Country.kind, Country.code))
    return render_template(
        "reference/countries.html", countries=list(rows), COUNTRY_KIND=COUNTRY_KIND
    )


def country_or_404(code: str) -> Country:
    country = db.session().get(Country, code) if re.fullmatch("[A-Z]{3}", code) else None
    if country is None:
        abort(404)
    return country


@bp.route("/countries/<code>", methods=["GET", "POST"])
@keeps
def country(code: str) -> str | Response | tuple[str, int]:
    record = country_or_404(code)
    if request.method == "GET":
        data = {
            "name_en": record.name_en,
            "name_fr": record.name_fr,
            "version": str(record.version),
        }
        return render_template(
            "reference/country.html", country=record, form=CountryForm(data=data)
        )
    form = CountryForm()
    if not form.validate_on_submit():
        return render_template("reference/country.html", country=record, form=form), INVALID
    labels = Labels(form.name_en.data or "", form.name_fr.data or "")
    try:
        terms.change_country(
            db.session(), record, labels, by=viewer(), expected_version=form.expected_version()
        )
    except StaleEditError:
        db.session().rollback()
        flash(_("Someone else changed this country meanwhile; nothing was saved."), "error")
        data = {
            "name_en": record.name_en,
            "name_fr": record.name_fr,
            "version": str(record.version),
        }
        page = render_template(
            "reference/country.html", country=record, form=CountryForm(formdata=None, data=data)
        )
        return page, CONFLICT
    except InputError as error:
        form.show(error)
        return render_template("reference/country.html", country=record, form=form), INVALID
    flash(_("The country %(code)s was saved.", code=record.code), "info")
    return redirect(url_for("reference_admin.countries"))
