"""Form fields as every form of capdb declares them: text is stripped, bounded, and free of
control characters; a choice is required and checked again by the service.

The forms carry what the user typed and check its shape; the rules that need the database
are the services'.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

# Tab, line feed and carriage return are text; other control characters are not, and
# PostgreSQL refuses NUL outright.
_ALLOWED_CONTROLS = {"\t", "\n", "\r"}


def printable(_form: FlaskForm, field: Field) -> None:
    data = field.data
    if isinstance(data, str) and any(
        (ord(c) < 32 and c not in _ALLOWED_CONTROLS) or ord(c) == 127 for c in data
    ):
        raise ValidationError(_l("Control characters are not allowed."))


def stripped(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def text(label: Any, max_length: int, *, required: bool = False) -> StringField:
    first = DataRequired() if required else Optional()
    return StringField(
        label, validators=[first, Length(max=max_length), printable], filters=[stripped]
    )


def long_text(label: Any, max_length: int, *, required: bool = False) -> TextAreaField:
    first = DataRequired() if required else Optional()
    return TextAreaField(
        label,
        validators=[first, Length(max=max_length), printable],
        filters=[stripped],
        render_kw={"rows": 4, "maxlength": max_length},
    )


def choice(label: Any) -> SelectField:
    # The services check the value again, against the vocabulary or the table.
    return SelectField(label, validators=[InputRequired()])
