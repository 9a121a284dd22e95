"""Administrative boundaries: the base layer of maps and the source of incidents' areas."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from capdb.db import Base, utcnow
from capdb.vocabularies import Term, Vocabulary

AREA_LEVEL = Vocabulary(
    "area_level",
    "boundary level",
    "niveau administratif",
    Term("admin0", "Country", "Pays"),
    Term("admin1", "First-level administrative area", "Division administrative de premier niveau"),
    Term("admin2", "Second-level administrative area", "Division administrative de second niveau"),
)


class Area(Base):
    """One administrative area, with its exact geometry and lighter ones for display."""

    __tablename__ = "areas"

    id: Mapped[int] = mapped_column(primary_key=True)
    level: Mapped[str] = mapped_column(AREA_LEVEL.column_type())
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    country_code: Mapped[str | None] = mapped_column(String(3), index=True)
    parent_code: Mapped[str | None] = mapped_column(String(40))
    # Bounding box, so that point-in-area work starts from a cheap index lookup.
    min_x: Mapped[float]
    min_y: Mapped[float]
    max_x: Mapped[float]
    max_y: Mapped[float]
    # Exact geometry as WKB (EPSG:4326); portable between SQLite and PostgreSQL.
    geometry: Mapped[bytes] = mapped_column(sa.LargeBinary)
    # Simplified GeoJSON geometries for the world, region and local zoom bands.
    display_low: Mapped[str] = mapped_column(Text)
    display_mid: Mapped[str] = mapped_column(Text)
    display_high: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(200))
    loaded_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        sa.UniqueConstraint("level", "code", name="uq_areas_level_code"),
        sa.Index("ix_areas_level_bbox", "level", "min_x", "max_x", "min_y", "max_y"),
    )
