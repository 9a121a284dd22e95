"""The form that names the filter on screen as a saved view."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField

from capdb.forms import text
from incidents.errors import InputError
from incidents.saved.service import MAX_NAME, MAX_QUERY


class SaveViewForm(FlaskForm):
    name = text(_l("Name of the view"), MAX_NAME, required=True)
    page = HiddenField()
    query = HiddenField()
    shared = BooleanField(_l("Share it with the other analysts"))

    def show(self, error: InputError) -> list[str]:
        """Put each reason next to its field; answer those that belong to no shown field."""
        unplaced = []
        for name, reason in error.problems.items():
            field = self._fields.get(name)
            if field is None or name in ("page", "query"):
                unplaced.append(reason)
            else:
                field.errors = [*field.errors, reason]
        return unplaced

    def query_text(self) -> str:
        return (self.query.data or "")[: MAX_QUERY + 1]
