import pytest

from capdb.vocabularies import (
    MEANS_OF_ATTACK,
    OUTCOME,
    VOCABULARIES,
    Vocabulary,
    VocabularyError,
)
from incidents.models import Incident, JudicialCase, Victim
from tests.factories import incident_values


def test_unknown_code_is_refused_with_a_clear_error() -> None:
    with pytest.raises(VocabularyError) as caught:
        Incident(**incident_values(means_of_attack="drone strike"))
    message = str(caught.value)
    assert "'drone strike' is not a valid means of attack" in message
    assert "ied" in message
    assert caught.value.vocabulary is MEANS_OF_ATTACK


def test_assigning_an_unknown_code_later_is_refused_too() -> None:
    victim = Victim(category="un_volunteer", outcome="killed")
    with pytest.raises(VocabularyError, match="outcome"):
        victim.outcome = "missing"
    assert victim.outcome == "killed"


def test_none_is_accepted_only_where_the_field_is_optional() -> None:
    case = JudicialCase(prosecuting_state_code="MLI", jurisdiction="military", current_stage=None)
    assert case.current_stage is None
    with pytest.raises(VocabularyError, match="jurisdiction"):
        case.jurisdiction = None  # type: ignore[assignment]


@pytest.mark.parametrize("vocabulary", VOCABULARIES.values(), ids=lambda v: v.name)
def test_every_term_has_a_lowercase_code_and_both_labels(vocabulary: Vocabulary) -> None:
    for term in vocabulary:
        assert term.code == term.code.lower()
        assert term.code.replace("_", "").isalnum()
        assert term.en
        assert term.fr


def test_labels_follow_the_locale() -> None:
    assert OUTCOME.label("killed", "en") == "Killed"
    assert OUTCOME.label("killed", "fr") == "Tué"
    assert OUTCOME.title("fr") == "conséquence"
