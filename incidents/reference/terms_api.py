"""Vocabularies and countries that admins keep, through the API: adding a term, changing
its labels, retiring it or bringing it back; the countries, and their names. Every signed-in
user reads them (``GET /vocabularies`` lists the terms); admins change them."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, NoReturn

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import fields, validate

from auth.access import requires
from capdb.reference import Country
from capdb.vocabularies import CODE_MAX, Vocabulary
from capdb.vocabulary_terms import LABEL_MAX, VocabularyTerm
from incidents import policy_reference
from incidents.api.access import session, viewer
from incidents.api.blueprint import api_blueprint
from incidents.api.errors import abort, refused
from incidents.api.schemas import ErrorSchema, Schema, Text, at_most, version_field
from incidents.errors import InputError, StaleEditError
from incidents.reference import terms
from incidents.reference.terms import COUNTRY_NAME_MAX, Labels

blp = api_blueprint("api_reference_kept", __name__, "Vocabularies and countries that admins keep.")


def _label(maximum: int, **kwargs: Any) -> Text:
    return Text(validate=[validate.Length(min=1), at_most(maximum)], **kwargs)


class TermInput(Schema):
    code = Text(
        required=True,
        validate=[
            at_most(CODE_MAX),
            validate.Regexp(terms.CODE, error=_l("Use a lowercase code.")),
        ],
    )
    label_en = _label(LABEL_MAX, required=True)
    label_fr = _label(LABEL_MAX, required=True)
    uniformed = fields.Boolean(load_default=False)


class TermPatch(Schema):
    version = version_field()
    label_en = _label(LABEL_MAX)
    label_fr = _label(LABEL_MAX)
    retired = fields.Boolean()


class TermServed(Schema):
    vocabulary = fields.String(required=True)
    code = fields.String(required=True)
    label_en = fields.String(required=True)
    label_fr = fields.String(required=True)
    retired = fields.Boolean(required=True)
    uniformed = fields.Boolean(required=True)
    version = fields.Integer(required=True)


class CountryServed(Schema):
    code = fields.String(required=True)
    name_en = fields.String(required=True)
    name_fr = fields.String(required=True)
    kind = fields.String(required=True)
    valid_until = fields.Date(required=True, allow_none=True)
    successor = fields.String(required=True, allow_none=True)
    version = fields.Integer(required=True)


class CountryList(Schema):
    items = fields.List(fields.Nested(CountryServed), required=True)


class CountryPatch(Schema):
    version = version_field()
    name_en = _label(COUNTRY_NAME_MAX)
    name_fr = _label(COUNTRY_NAME_MAX)


def vocabulary_or_404(name: str) -> Vocabulary:
    vocabulary = terms.kept_vocabulary(name)
    if vocabulary is None:
        abort(404)
    return vocabulary


def served_term(term: VocabularyTerm) -> dict[str, Any]:
    return {
        "vocabulary": term.vocabulary,
        "code": term.code,
        "label_en": term.label_en,
        "label_fr": term.label_fr,
        "retired": term.retired_at is not None,
        "uniformed": term.uniformed,
        "version": term.version,
    }


def served_country(country: Country) -> dict[str, Any]:
    return {
        "code": country.code,
        "name_en": country.name_en,
        "name_fr": country.name_fr,
        "kind": country.kind,
        "valid_until": country.valid_until,
        "successor": country.successor_code,
        "version": country.version,
    }


def _stale(current: Callable[[], dict[str, Any]]) -> NoReturn:
    session().rollback()
    abort(409, message=_("It changed since this version; nothing was saved."), current=current())


@blp.route("/vocabularies/<name>/terms", methods=["POST"])
@requires(policy_reference.may_keep_reference_data)
@blp.arguments(TermInput)
@blp.response(201, TermServed)
def add_term(values: dict[str, Any], name: str) -> dict[str, Any]:
    """Add a term to a vocabulary admins keep; it is offered for new records at once."""
    vocabulary = vocabulary_or_404(name)
    try:
        term = terms.add_term(
            session(), vocabulary, values["code"], Labels(values["label_en"], values["label_fr"]),
            uniformed=values["uniformed"], by=viewer(),
        )  # fmt: skip
    except InputError as error:
        refused(error)
    return served_term(term)


@blp.route("/vocabularies/<name>/terms/<code>", methods=["PATCH"])
@requires(policy_reference.may_keep_reference_data)
@blp.arguments(TermPatch)
@blp.response(200, TermServed)
@blp.alt_response(409, schema=ErrorSchema, description="Changed meanwhile: `current` holds it.")
def change_term(values: dict[str, Any], name: str, code: str) -> dict[str, Any]:
    """Change a term's labels, retire it (new records no longer take it; old ones keep it)
    or bring it back."""
    vocabulary = vocabulary_or_404(name)
    term = terms.term_of(session(), vocabulary, code)
    if term is None:
        abort(404)
    labels = Labels(values.get("label_en", term.label_en), values.get("label_fr", term.label_fr))
    retired = values.get("retired", term.retired_at is not None)
    try:
        terms.change_term(
            session(), vocabulary, term, labels, retired=retired, by=viewer(),
            expected_version=values["version"],
        )  # fmt: skip
    except StaleEditError:
        _stale(lambda: served_term(term))
    except InputError as error:
        refused(error)
    return served_term(term)


@blp.route("/countries", methods=["GET"])
@requires(policy_reference.may_read_reference_data)
@blp.response(200, CountryList)
def list_countries() -> dict[str, Any]:
    """Every country: ISO 3166 with Kosovo and Abyei, the former States with the State that
    continues each, and the nationalities that are no State (XXA stateless, XXX undetermined)."""
    countries = session().scalars(sa.select(Country).order_by(Country.code))
    return {"items": [served_country(c) for c in countries]}


@blp.route("/countries/<code>", methods=["PATCH"])
@requires(policy_reference.may_keep_reference_data)
@blp.arguments(CountryPatch)
@blp.response(200, CountryServed)
@blp.alt_response(409, schema=ErrorSchema, description="Changed meanwhile: `current` holds it.")
def change_country(values: dict[str, Any], code: str) -> dict[str, Any]:
    """Change a country's English or French name."""
    country = session().get(Country, code.upper()) if re.fullmatch("[A-Za-z]{3}", code) else None
    if country is None:
        abort(404)
    labels = Labels(values.get("name_en", country.name_en), values.get("name_fr", country.name_fr))
    try:
        terms.change_country(
            session(), country, labels, by=viewer(), expected_version=values["version"]
        )
    except StaleEditError:
        _stale(lambda: served_country(country))
    except InputError as error:
        refused(error)
    return served_country(country)
