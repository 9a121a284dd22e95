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
