"""Reference data through the API: the vocabularies with their codes and labels."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from capdb.db import session
from capdb.vocabularies import VOCABULARIES, Term, Vocabulary
from capdb.vocabulary_terms import VocabularyTerm
from incidents.api.blueprint import api_blueprint
from incidents.api.schemas import VocabulariesSchema

blp = api_blueprint("api_reference", __name__, "Vocabularies: codes and labels.")


def _term(
    term: Term, vocabulary: Vocabulary, versions: dict[tuple[str, str], int]
) -> dict[str, Any]:
    served: dict[str, Any] = {
        "code": term.code,
        "en": term.en,
        "fr": term.fr,
        "retired": term.retired,
    }
    if vocabulary.name == "personnel_category":
        served["uniformed"] = term.uniformed
    version = versions.get((vocabulary.name, term.code))
    if version is not None:
        served["version"] = version
    return served


@blp.route("/vocabularies", methods=["GET"])
@blp.response(200, VocabulariesSchema)
def vocabularies() -> dict[str, Any]:
    """Every controlled vocabulary: its stable codes with their English and French labels.
    Those admins keep (``kept``) may gain terms and retire some: a retired term is on old
    records only."""
    versions = {
        (vocabulary, code): version
        for vocabulary, code, version in session().execute(
            sa.select(VocabularyTerm.vocabulary, VocabularyTerm.code, VocabularyTerm.version)
        )
    }
    return {
        "vocabularies": {
            name: {
                "title_en": vocabulary.title_en,
                "title_fr": vocabulary.title_fr,
                "kept": vocabulary.kept,
                "terms": [_term(t, vocabulary, versions) for t in vocabulary],
            }
            for name, vocabulary in VOCABULARIES.items()
        }
    }
