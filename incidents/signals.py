"""What the incidents feature tells others about, without knowing who listens.

``incidents_saved`` is sent with the session and the ids of incidents whose place or
victims may have changed (a form save, an import); the maps feature recomputes their
administrative areas. The composition root connects the listeners.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

incidents_saved = _signals.signal("incidents-saved")
