"""The form, the API schemas, the import and the export agree with the fields declared in
incidents.fields, and a field added there appears in each of them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import fields as dataclass_fields
from typing import Any

import pytest
from flask import Flask
from flask_wtf import FlaskForm
from marshmallow import validate
from wtforms.validators import DataRequired, InputRequired, Length

from capdb.vocabularies import OUTCOME, SEX
from incidents.fields import (
    INCIDENT_FIELDS,
    VICTIM_FIELDS,
    Field,
    Kind,
    exported,
    imported,
    recorded,
)
from incidents.recording.form_parts import add_fields
from incidents.recording.forms import IncidentForm
from incidents.recording.schemas import (
    IncidentInput,
    IncidentSchema,
    VictimInput,
    VictimSchema,
    input_fields,
    served_fields,
)
from incidents.recording.service import IncidentFields, VictimFields
from incidents.transfer import exporting, importing
from incidents.transfer.columns import incident_imported

WEATHER = Field("weather", Kind.TEXT, "Weather", "Weather", "Météo", max_length=50)
WIND = Field("wind", Kind.CHOICE, "Wind", "Wind", "Vent", vocabulary=SEX, required=True)


@pytest.fixture
def request_context(app: Flask) -> Iterator[None]:
    with app.test_request_context():
        yield


def _max_length(validators: Any) -> int | None:
    found = [v.max for v in validators if isinstance(v, Length | validate.Length) and v.max]
    return found[0] if found else None


def test_the_service_takes_exactly_the_recorded_fields() -> None:
    incident = {f.model_attribute for f in recorded(INCIDENT_FIELDS)}
    victim = {f.model_attribute for f in recorded(VICTIM_FIELDS)}
    assert incident == {f.name for f in dataclass_fields(IncidentFields)}
    assert victim == {f.name for f in dataclass_fields(VictimFields)}


@pytest.mark.usefixtures("request_context")
def test_the_form_has_each_recorded_field_with_its_label_and_limits() -> None:
    form = IncidentForm(missions=[], countries=[], meta={"csrf": False})
    victim = form.victims[0].form
    for declared, owner in [
        *((f, form) for f in recorded(INCIDENT_FIELDS)),
        *((f, victim) for f in recorded(VICTIM_FIELDS)),
    ]:
        field = owner[declared.name]
        assert field.label.text == str(declared.label)
        assert _max_length(field.validators) == declared.max_length, declared.name
        presence = [v for v in field.validators if isinstance(v, DataRequired | InputRequired)]
        if declared.missing is not None:
            assert [str(v.message) for v in presence] == [str(declared.missing)]
    assert {f.name for f in recorded(INCIDENT_FIELDS)} <= {f.short_name for f in form}
    assert not {f.name for f in INCIDENT_FIELDS if not f.recorded} & {f.short_name for f in form}


def test_the_api_takes_and_gives_each_field_by_its_declared_name() -> None:
    for schema, declared_fields in (
        (IncidentInput(), INCIDENT_FIELDS),
        (VictimInput(), VICTIM_FIELDS),
    ):
        for declared in recorded(declared_fields):
            field = schema.fields[declared.name]
            assert (field.attribute or declared.name) == declared.model_attribute
            assert field.required == (declared.required and declared.default is None)
            assert _max_length(field.validators) == declared.max_length, declared.name
            if declared.vocabulary is not None:
                choices = [v for v in field.validators if isinstance(v, validate.OneOf)]
                assert list(choices[0].choices) == list(declared.vocabulary.codes)
        assert not {f.name for f in declared_fields if not f.recorded} & set(schema.fields)
    for schema, declared_fields in (
        (IncidentSchema(), INCIDENT_FIELDS),
        (VictimSchema(), VICTIM_FIELDS),
    ):
        served = {f.name for f in declared_fields if f.served}
        assert served <= set(schema.fields)
        for declared in declared_fields:
            if declared.personal:
                assert not schema.fields[declared.name].required
    assert "source_reference" not in IncidentSchema().fields


@pytest.mark.parametrize("locale", ["en", "fr"])
def test_the_export_has_a_column_for_each_exported_field(locale: str) -> None:
    request = exporting.ExportRequest(user=None, filters=None, locale=locale)  # type: ignore[arg-type]
    headers = request.headers()
    declared = [f.header(locale) for f in exported(INCIDENT_FIELDS)]
    assert [h for h in headers if h in declared] == declared
    counted = [c.key for c in request.columns if c.key in request.counts]
    assert counted == ["victims", *(f"victims_{code}" for code in OUTCOME.codes)]
    keys = [c.key for c in request.columns]
    assert keys.index("victims") == keys.index("status") + 1
    assert not any(f.personal for f in exported(INCIDENT_FIELDS + VICTIM_FIELDS))


@pytest.mark.parametrize("locale", ["en", "fr"])
def test_the_import_template_has_a_column_for_each_imported_field(locale: str) -> None:
    headers = [column.header(locale) for column in importing.template_columns(victims=2)]
    for declared in imported(INCIDENT_FIELDS):
        assert declared.header(locale) in headers
        column = importing.known_headers()[importing.header_key(declared.header(locale))]
        assert column.key == declared.name
        assert column.required == declared.required
    victim = "Victime" if locale == "fr" else "Victim"
    for declared in imported(VICTIM_FIELDS):
        for number in (1, 2):
            assert f"{victim} {number} {declared.header(locale)}" in headers


@pytest.mark.usefixtures("request_context")
def test_a_field_added_to_the_declaration_appears_everywhere() -> None:
    extended = (*INCIDENT_FIELDS, WEATHER, WIND)

    form_class = type("Form", (FlaskForm,), {})
    add_fields(form_class, recorded(extended))
    form = form_class(meta={"csrf": False})
    assert form["weather"].label.text == "Weather"
    assert _max_length(form["weather"].validators) == 50
    assert [c.value for c in form["wind"].choices][1:] == list(SEX.codes)

    schema_fields = input_fields(extended)
    assert _max_length(schema_fields["weather"].validators) == 50
    assert schema_fields["wind"].required
    assert {"weather", "wind"} <= set(served_fields(extended))

    export_keys = [c.key for c in exporting.export_columns(extended)]
    assert export_keys[-2:] == ["weather", "wind"]
    import_keys = [f.name for f in incident_imported(extended)]
    assert import_keys[-3:] == ["weather", "wind", "status"]
