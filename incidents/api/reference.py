"""Reference data through the API: the vocabularies with their codes and labels."""

from __future__ import annotations

from typing import Any

from capdb.vocabularies import VOCABULARIES
from incidents.api.blueprint import api_blueprint
from incidents.api.schemas import VocabulariesSchema

blp = api_blueprint("api_reference", __name__, "Vocabularies: codes and labels.")


@blp.route("/vocabularies", methods=["GET"])
@blp.response(200, VocabulariesSchema)
def vocabularies() -> dict[str, Any]:
    """Every controlled vocabulary: its stable codes with their English and French labels."""
    return {
        "vocabularies": {
            name: {
                "title_en": vocabulary.title_en,
                "title_fr": vocabulary.title_fr,
                "terms": [{"code": t.code, "en": t.en, "fr": t.fr} for t in vocabulary],
            }
            for name, vocabulary in VOCABULARIES.items()
        }
    }
