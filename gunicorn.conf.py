"""gunicorn's settings for capdb: ``gunicorn -c gunicorn.conf.py wsgi:app``.

Everything an operator may change is a ``CAPDB_`` variable, read and checked by the
application's own Config (an unknown or malformed one stops the server before it starts):

- ``CAPDB_BIND``: where to listen (``127.0.0.1:8000``; nginx in front of it);
- ``CAPDB_WEB_WORKERS``: processes (0, the default: twice the processors plus one; each
  takes 130 to 300 MB);
- ``CAPDB_TRUSTED_PROXIES``: the reverse proxies whose forwarding headers are believed.

The application writes one JSON line per request to standard output, so gunicorn's own
access log is off (no request logged twice); gunicorn's messages are JSON lines too.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# The checkout this file belongs to, whatever the working directory.
sys.path.insert(0, str(Path(__file__).resolve().parent))

# Charts are drawn with matplotlib and the map page made with folium, each a second or
# more to import: imported here, in the server's own process, every worker forked from it
# has them at no cost to any request (see maps.warm_up).
import maps.drawing
from capdb.config import Config  # after the path above

# folium imports pandas where it is installed (geopandas needs it, in the commands and
# jobs that read boundaries), for DataFrames capdb never gives it: 30 MB more in every
# worker. Hidden while folium loads; imported as usual by whatever asks for it later.
sys.modules["pandas"] = None  # type: ignore[assignment]  # "import pandas" fails
try:
    import maps.folium_map  # noqa: F401
finally:
    del sys.modules["pandas"]

_config = Config.from_env(os.environ)


def _processors() -> int:
    # The processors this process may run on (a container or systemd may allow fewer).
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


wsgi_app = "wsgi:app"
bind = [_config.bind]
workers = _config.web_workers or 2 * _processors() + 1
worker_class = "sync"
# The slowest legitimate request (a large case dossier PDF) takes seconds, not minutes.
timeout = 120
# On SIGTERM, requests under way get this long to finish.
graceful_timeout = 30
keepalive = 5
# Workers are replaced now and then, at different times, to bound any slow growth.
max_requests = 2000
max_requests_jitter = 200
# Not preloaded: each worker opens its own database connections after the fork.
preload_app = False
forwarded_allow_ips = _config.trusted_proxies
# The request line comes from the application (capdb/logs.py), with its request id and user.
accesslog = None
errorlog = "-"
loglevel = _config.log_level.lower()
capture_output = False
# gunicorn's control socket is not used; systemd manages the server.
control_socket_disable = True
proc_name = "capdb-web"
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "capdb.logs.JsonFormatter"}},
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "stream": "ext://sys.stdout",
        }
    },
    # The application adds its own handler to the root logger in each worker.
    "root": {"handlers": [], "level": "WARNING"},
    "loggers": {
        "gunicorn.error": {"handlers": ["stdout"], "level": loglevel.upper(), "propagate": False},
        "gunicorn.access": {"handlers": [], "propagate": False},
    },
}
