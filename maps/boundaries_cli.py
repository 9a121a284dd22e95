"""``flask --app wsgi boundaries load FILE --level admin0|admin1|admin2``."""

from __future__ import annotations

from flask.cli import AppGroup

boundaries_cli = AppGroup("boundaries", help="Load administrative boundaries.")
