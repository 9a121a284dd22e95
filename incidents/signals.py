"""What the incidents feature tells others about, without knowing who listens.

``incidents_saved`` is sent with the session and the ids of incidents whose place or
victims may have changed (a form save, an import); the maps feature recomputes their
administrative areas. ``incidents_inserted`` is sent with the session and the ids of
incidents written past the ORM (an import), once their victims and ``incident_states``
rows are in and before ``incidents_saved``: the maps feature counts them in the figures
it keeps. The composition root connects the listeners.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

incidents_saved = _signals.signal("incidents-saved")
incidents_inserted = _signals.signal("incidents-inserted")

# What happened in the users' work, for whoever tells people about it (the notifications
# feature). Each is sent with the session, after the change is flushed and before the
# transaction commits, so that a listener's writes commit or roll back with the change.

incident_step = _signals.signal("incident-workflow-step")
"""An incident was submitted, validated or returned: ``incident``, ``step`` ("submit",
"validate" or "return"), ``user`` (who took it)."""

stage_event_recorded = _signals.signal("stage-event-recorded")
"""A stage event was recorded, counting at once or pending review: ``event``, ``user``."""

stage_update_reviewed = _signals.signal("stage-update-reviewed")
"""A pending stage update was validated or rejected: ``event``, ``user``."""

comment_posted = _signals.signal("comment-posted")
"""A comment or a request for clarification was posted: ``comment``, ``user``, and
``answers``, the request it answers (or None)."""
