"""The verification workflow: draft -> submitted -> validated, and back to draft with a
reason. The policy (:mod:`incidents.policy`) decides who may take which step; this module
takes it and says why a refused one was refused."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from auth import audit
from auth.models import User
from capdb.clock import now
from incidents import policy
from incidents.errors import NotAllowedError
from incidents.models import Incident
from incidents.policy import incident_if_visible
from incidents.recording.service import (
    RETURN_REASON_MAX,
    InvalidTransitionError,
    RecordingError,
)
from incidents.signals import incident_step

SUBMIT, VALIDATE, RETURN = "submit", "validate", "return"


def workflow_actions(user: User, incident: Incident) -> tuple[str, ...]:
    """The workflow steps the user may take on the incident now."""
    return tuple(
        action
        for action, allowed in (
            (SUBMIT, policy.may_submit),
            (VALIDATE, policy.may_validate),
            (RETURN, policy.may_return),
        )
        if allowed(user, incident)
    )


# The policy decides; these say why it refused: the status (409) or the user (403).


def _check_submit(user: User, incident: Incident) -> None:
    if policy.may_submit(user, incident):
        return
    if incident.status != "draft":
        raise InvalidTransitionError(_("Only a draft can be submitted for validation."))
    raise NotAllowedError(_("Only the incident's mission can submit it."))


def _check_validate(user: User, incident: Incident) -> None:
    if policy.may_validate(user, incident):
        return
    if incident.status != "submitted":
        raise InvalidTransitionError(_("Only a submitted incident can be validated."))
    if not policy.keeps_record_of(user, incident):
        raise NotAllowedError(_("Only the incident's mission can validate it."))
    raise NotAllowedError(
        _("An incident is validated by another officer than its author or submitter.")
    )


def _check_return(user: User, incident: Incident) -> None:
    if policy.may_return(user, incident):
        return
    if incident.status not in {"submitted", "validated"}:
        raise InvalidTransitionError(_("Only a submitted or validated incident can be returned."))
    raise NotAllowedError(_("Only the incident's mission can return it."))


def submit(db: Session, user: User, incident: Incident) -> None:
    _check_submit(user, incident)
    incident.status = "submitted"
    incident.submitted_at, incident.submitted_by_id = now(), user.id
    # The reason it was returned for has been acted on; the history keeps it.
    incident.return_reason = None
    _record_step(db, user, incident, SUBMIT, "draft")


def validate(db: Session, user: User, incident: Incident) -> None:
    _check_validate(user, incident)
    incident.status = "validated"
    incident.validated_at, incident.validated_by_id = now(), user.id
    _record_step(db, user, incident, VALIDATE, "submitted")


def return_to_draft(db: Session, user: User, incident: Incident, reason: str) -> None:
    _check_return(user, incident)
    reason = reason.strip()
    if not reason:
        raise RecordingError(_("Give the reason for returning the incident."))
    if len(reason) > RETURN_REASON_MAX:
        raise RecordingError(
            _("The reason is limited to %(max)d characters.", max=RETURN_REASON_MAX)
        )
    before = incident.status
    incident.status = "draft"
    incident.return_reason = reason
    incident.submitted_at = incident.submitted_by_id = None
    incident.validated_at = incident.validated_by_id = None
    _record_step(db, user, incident, RETURN, before, reason=reason)


def _record_step(
    db: Session, user: User, incident: Incident, step: str, before: str, **extra: str
) -> None:
    incident.updated_by_id = user.id
    db.flush()
    detail = {"workflow": step, "from": before, "to": incident.status, **extra}
    audit.record(db, "update", user=user, target=incident, detail=detail)
    incident_step.send(db, incident=incident, step=step, user=user)


@dataclass(frozen=True)
class WorkflowPanel:
    """What the incident page shows of the workflow to one user."""

    actions: tuple[str, ...]
    may_edit: bool
    keeps_record: bool
    return_reason: str | None
    duplicate_of: Incident | None
    # Who submitted and who validated it, named as the policy lets this user know them;
    # empty for those who do not keep the record.
    submitted_by: str = ""
    validated_by: str = ""


def workflow_panel(db: Session, user: User, incident: Incident) -> WorkflowPanel:
    keeps_record = policy.keeps_record_of(user, incident)
    # Linked only if the viewer may open it: its reference is not disclosed otherwise.
    duplicate_of = incident_if_visible(db, user, incident.duplicate_of_id)
    return WorkflowPanel(
        actions=workflow_actions(user, incident),
        may_edit=policy.may_edit(user, incident),
        keeps_record=keeps_record,
        return_reason=(
            incident.return_reason if keeps_record and incident.status == "draft" else None
        ),
        duplicate_of=duplicate_of,
        submitted_by=policy.person_label(user, incident.submitted_by) if keeps_record else "",
        validated_by=policy.person_label(user, incident.validated_by) if keeps_record else "",
    )
