"""The forms of the comment pages: a comment or request for clarification, and an answer.

Fields not declared here are never read: the thread a comment joins and its author come
from the user, never from the form.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField

from capdb.forms import choice, long_text
from capdb.vocabularies import COMMENT_KIND
from incidents.comments.threads import MAX_BODY


class CommentForm(FlaskForm):
    kind = choice(_l("Kind"))
    body = long_text(_l("Message"), MAX_BODY)
    next = HiddenField()

    def fill_choices(self, locale: str) -> None:
        self.kind.choices = [(t.code, t.label(locale)) for t in COMMENT_KIND]


class AnswerForm(FlaskForm):
    answer = long_text(_l("Answer"), MAX_BODY)
    next = HiddenField()
