"""Loading administrative boundaries as a background job (the CLI's ``boundaries load``
stays synchronous: an operator at a terminal waits for it anyway).

The file waits in the instance folder (:func:`boundaries_folder`); the job replaces the
areas of the level and recomputes the incidents' admin areas, all or nothing, as the
command does. Boundaries are reference data of the whole system: administrators only.
"""

from __future__ import annotations

from pathlib import Path

from flask_babel import gettext as _

from capdb.config import current_config
from incidents.jobs.running import JobError, JobWork

BOUNDARIES_FOLDER = "boundaries"


def boundaries_folder() -> Path:
    folder = current_config().instance_path / BOUNDARIES_FOLDER
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def boundaries_job(work: JobWork) -> None:
    """Params: ``file`` (a name in the boundaries folder), ``level``, and optionally
    ``fields`` (code, name, country, parent), ``layer`` and ``crs``."""
    from maps.boundaries import FieldNames, load_file
    from maps.boundary_files import BoundaryError

    if work.user.role != "admin":
        raise JobError(_("Only administrators load boundaries."))
    path = boundaries_folder() / Path(str(work.params["file"])).name
    if not path.is_file():
        raise JobError(_("The uploaded file is no longer kept; upload it again."))
    fields = FieldNames(**work.params.get("fields", {}))
    work.progress(0, 1, _("Reading the file"), force=True)
    try:
        report = load_file(
            work.db,
            path,
            str(work.params["level"]),
            fields,
            layer=work.params.get("layer"),
            crs=work.params.get("crs"),
        )
    except BoundaryError as error:
        raise JobError(f"{_('Nothing was loaded.')} {error}") from None
    work.progress(1, 1, str(report)[:200], force=True)
