"""Likely duplicates: other incidents of the same mission and means of attack, within
two days and ten kilometres, among those the user may see."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from auth import audit
from auth.models import User
from incidents.models import Incident
from incidents.policy import visible_incidents
from incidents.recording.service import NotACandidateError, ensure_editable

DUPLICATE_DAYS = 2
DUPLICATE_KM = 10.0
EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True)
class Candidate:
    incident: Incident
    distance_km: float


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """The great-circle distance (haversine)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def likely_duplicates(db: Session, user: User, incident: Incident) -> list[Candidate]:
    """Other incidents of the same mission and means of attack, within 2 days and 10 km,
    that the user may see; nearest first.

    The database narrows to a bounding box; the exact distance is computed here over the
    few incidents inside it.
    """
    lat, lon = incident.latitude, incident.longitude
    if lat is None or lon is None:
        return []
    window = timedelta(days=DUPLICATE_DAYS)
    query = (
        sa.select(Incident)
        .where(
            visible_incidents(user),
            Incident.id != incident.id,
            Incident.mission_code == incident.mission_code,
            Incident.means_of_attack == incident.means_of_attack,
            Incident.occurred_on.between(
                incident.occurred_on - window, incident.occurred_on + window
            ),
            _within_box(lat, lon, DUPLICATE_KM),
        )
        .order_by(Incident.occurred_on, Incident.id)
        .limit(200)
    )
    candidates = []
    for other in db.scalars(query):
        if other.latitude is None or other.longitude is None:  # outside any box; for mypy
            continue
        distance = distance_km(lat, lon, other.latitude, other.longitude)
        if distance <= DUPLICATE_KM:
            candidates.append(Candidate(other, distance))
    return sorted(candidates, key=lambda c: (c.distance_km, c.incident.id))


def _within_box(lat: float, lon: float, km: float) -> sa.ColumnElement[bool]:
    # A little wider than the circle, so that rounding never loses an incident at the edge.
    dlat = math.degrees(km / EARTH_RADIUS_KM) * 1.01
    cos_lat = math.cos(math.radians(min(89.9, abs(lat))))
    dlon = min(180.0, math.degrees(km / (EARTH_RADIUS_KM * cos_lat)) * 1.01)
    latitude = Incident.latitude.between(lat - dlat, lat + dlat)
    west, east = lon - dlon, lon + dlon
    if west < -180 or east > 180:  # across the antimeridian
        longitude = sa.or_(
            Incident.longitude >= (west + 360 if west < -180 else west),
            Incident.longitude <= (east - 360 if east > 180 else east),
        )
    else:
        longitude = Incident.longitude.between(west, east)
    return sa.and_(latitude, longitude)


def link_duplicate(db: Session, user: User, incident: Incident, original_id: int) -> Incident:
    """Mark the incident as a duplicate of one of its likely duplicates."""
    ensure_editable(user, incident)
    candidates = {c.incident.id: c.incident for c in likely_duplicates(db, user, incident)}
    original = candidates.get(original_id)
    if original is None:
        raise NotACandidateError(_("That incident is not among the likely duplicates."))
    incident.duplicate_of_id = original.id
    incident.updated_by_id = user.id
    db.flush()
    audit.record(
        db,
        "update",
        user=user,
        target=incident,
        detail={"duplicate_of": original.id, "reference": original.reference},
    )
    return original
