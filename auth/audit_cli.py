"""``flask --app wsgi audit verify|link|anchor``: check, link and anchor the audit trail."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import click
from flask.cli import AppGroup

from auth.audit import Anchor, ChainCheck, check_chain, link_all_pending
from auth.audit_anchor import AnchorError, read_anchor, take_anchor, write_anchor
from capdb import db
from capdb.config import current_config
from capdb.db import utcnow

audit_cli = AppGroup("audit", help="Check, link and anchor the audit trail.")

# Linking follows each commit within milliseconds; older unlinked entries mean it failed
# or no job links the leftovers.
LINKING_DELAY = timedelta(minutes=1)


@audit_cli.command("verify")
@click.option(
    "--head",
    metavar="HASH",
    help="A head hash printed by an earlier run: fails if that entry is gone.",
)
@click.option(
    "--anchor",
    "anchor_files",
    metavar="FILE",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="An anchor written by `audit anchor`: fails if entries up to it are missing or differ.",
)
def verify(head: str | None, anchor_files: tuple[Path, ...]) -> None:
    """Check that no audit entry was altered, removed or inserted. Changes nothing."""
    anchors = _read_anchors(anchor_files)
    with db.database().sessionmaker() as session:
        check = check_chain(session, head=head, anchors=anchors)
    if check.broken is not None:
        raise click.ClickException(f"the audit trail is broken: {check.broken}")
    click.echo("The audit trail is intact.")
    if (newest := check.newest) is not None:
        click.echo(
            f"Its newest entry is {newest.event_id}, with the head hash {newest.hash}. Keep that"
            " hash outside capdb: `audit verify --head HASH` later proves that no entry up to"
            " it was removed."
        )
    if anchors:
        click.echo(f"It holds every entry up to the {len(anchors)} anchor(s) given.")
    _report_unlinked(check)


def _read_anchors(files: tuple[Path, ...]) -> list[Anchor]:
    try:
        return [read_anchor(path) for path in files]
    except AnchorError as error:
        raise click.ClickException(str(error)) from None


def _report_unlinked(check: ChainCheck) -> None:
    """Unlinked entries are not part of the chain yet, so nothing proves them intact.

    A warning, not a failure: they are not evidence of tampering, and a restored backup
    may hold entries written just before it was taken; `audit link` links them.
    """
    unlinked = check.unlinked
    if unlinked.count == 0 or unlinked.oldest is None:
        return
    if utcnow() - unlinked.oldest <= LINKING_DELAY:
        click.echo(f"{unlinked.count} newer entries are being linked into the chain.")
        return
    click.echo(
        f"Warning: {unlinked.count} audit entries are not linked into the chain, the oldest"
        f" written at {unlinked.oldest.isoformat()}; nothing protects them until they are."
        " Run `flask --app wsgi audit link`, and check that the job worker runs.",
        err=True,
    )


@audit_cli.command("link")
def link() -> None:
    """Link into the chain the entries that commits left unlinked."""
    total = link_all_pending(db.database().sessionmaker)
    click.echo(f"Linked {total} audit entries into the chain.")


@audit_cli.command("anchor")
@click.option(
    "--print",
    "print_only",
    is_flag=True,
    help="Print the anchor instead of writing it to CAPDB_AUDIT_ANCHOR_DIR.",
)
def anchor(print_only: bool) -> None:
    """Export the chain's head, to catch later removal of the newest entries."""
    directory = current_config().audit_anchor_dir
    with db.database().sessionmaker() as session:
        kept = take_anchor(session)
    if print_only or not directory:
        click.echo(kept.to_json())
        if not print_only:
            click.echo(
                "CAPDB_AUDIT_ANCHOR_DIR is not set: keep this anchor outside capdb.", err=True
            )
        return
    path = write_anchor(Path(directory), kept)
    click.echo(f"Anchored the audit trail at position {kept.anchor.position} in {path}.")
