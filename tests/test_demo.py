from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask.testing import FlaskCliRunner
from sqlalchemy.orm import Session

from capdb.app import create_app
from capdb.config import Config, Environment
from demo.seed import seed_demo
from incidents.models import (
    CapacityAssistance,
    Defendant,
    Incident,
    JudicialCase,
    StageEvent,
    Victim,
)


def snapshot(db: Session) -> list[tuple[Any, ...]]:
    """Every demo row without its generated keys, in a stable order."""
    rows: list[tuple[Any, ...]] = []
    for model in (Incident, Victim, JudicialCase, Defendant, StageEvent, CapacityAssistance):
        columns = [
            c for c in model.__table__.columns if not c.name.endswith("_id") and c.name != "id"
        ]
        rows.extend(tuple(r) for r in db.execute(sa.select(*columns).order_by(*columns)))
    return rows


def seeded_snapshot(db: Session, seed: int) -> list[tuple[Any, ...]]:
    with db.begin_nested() as savepoint:
        seed_demo(db, 300, seed)
        rows = snapshot(db)
        savepoint.rollback()
    return rows


def test_same_seed_gives_the_same_data(db: Session) -> None:
    first = seeded_snapshot(db, 7)
    assert len(first) > 300
    assert seeded_snapshot(db, 7) == first
    assert seeded_snapshot(db, 8) != first


def test_demo_data_looks_like_the_real_record(db: Session) -> None:
    report = seed_demo(db, 2_000, 2589)
    assert report.incidents == 2_000
    by_mission = dict(
        db.execute(
            sa.select(Incident.mission_code, sa.func.count()).group_by(Incident.mission_code)
        ).all()
    )
    ranking = sorted(by_mission, key=by_mission.__getitem__, reverse=True)
    assert ranking[0] == "MINUSMA"
    assert set(ranking[1:3]) == {"MONUSCO", "MINUSCA"}
    # MINUSMA incidents fall within the mission's life.
    first, last = db.execute(
        sa.select(sa.func.min(Incident.occurred_on), sa.func.max(Incident.occurred_on)).where(
            Incident.mission_code == "MINUSMA"
        )
    ).one()
    assert first.year >= 2013
    assert last.year <= 2023
    # Points lie in Mali for MINUSMA (a generous bounding box of the country).
    outside = db.scalar(
        sa.select(sa.func.count()).where(
            Incident.mission_code == "MINUSMA",
            ~Incident.latitude.between(10.1, 25.0) | ~Incident.longitude.between(-12.3, 4.3),
        )
    )
    assert outside == 0
    stages = set(db.scalars(sa.select(JudicialCase.current_stage).distinct()))
    assert {"investigation_opened", "sentenced", "final", "closed_without_action"} <= stages
    pending = db.scalar(
        sa.select(sa.func.count())
        .select_from(StageEvent)
        .where(StageEvent.review_status == "pending")
    )
    assert pending


def test_cli_seeds_with_progress_and_refuses_a_second_time(cli: FlaskCliRunner) -> None:
    result = cli.invoke(args=["demo", "seed", "--incidents", "50", "--seed", "1"])
    assert result.exit_code == 0, result.output
    assert "50 incidents" in result.output
    again = cli.invoke(args=["demo", "seed", "--incidents", "50"])
    assert again.exit_code == 1
    assert "already holds 50 incidents" in again.output
    quiet = cli.invoke(args=["demo", "seed", "--incidents", "50", "--if-empty"])
    assert quiet.exit_code == 0
    assert "no demo data added" in quiet.output


def test_cli_refuses_production(database_url: str, tmp_path: Path) -> None:
    config = Config(
        env=Environment.PRODUCTION,
        database_url=database_url,
        secret_key="k" * 40,
        instance_path=tmp_path,
    )
    result = create_app(config).test_cli_runner().invoke(args=["demo", "seed"])
    assert result.exit_code == 1
    assert "never seeded into a production database" in result.output
