"""Reference data and figures through the API: the vocabularies with their labels, and the
summary statistics of the incidents the viewer may see."""

from __future__ import annotations

from typing import Any

from capdb.vocabularies import VOCABULARIES
from incidents.api.access import session, viewer
from incidents.api.blueprint import api_blueprint
from incidents.api.schemas import FilterQuery, SummarySchema, VocabulariesSchema

blp = api_blueprint("api_reference", __name__, "Vocabularies and statistics.")

SUMMARY_FIGURES = ("incidents", "fatalities", "injured", "abducted", "cases", "convictions")


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


@blp.route("/stats/summary", methods=["GET"])
@blp.arguments(FilterQuery, location="query", error_status_code=400)
@blp.response(200, SummarySchema)
def stats_summary(query: dict[str, Any]) -> dict[str, int]:
    """Incidents, victims by outcome, cases and convictions: for the filter, within the
    viewer's scope."""
    # maps depends on incidents, not the reverse: the statistics are imported when asked for.
    from maps.stats import summary

    figures = summary(session(), viewer(), query["filters"])
    return {name: figures[name] for name in SUMMARY_FIGURES}
