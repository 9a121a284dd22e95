"""The job queue: Huey, on SQLite in the instance folder or on Redis when configured.

Long work (large imports and exports, reports) runs in a separate worker process,
``flask --app wsgi jobs worker``, never in a thread of the web server. The web process
puts a message on the queue; the worker runs the task inside an application context of
its own, with its own database session, committed when the task succeeds and rolled
back when it fails.

This module knows no feature: the composition root registers the tasks
(:func:`register_task`) and the periodic ones (:func:`register_periodic`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import click
from flask import Flask, current_app, g
from flask.cli import AppGroup
from huey import Huey, RedisHuey, SqliteHuey, crontab
from huey.api import TaskWrapper

from capdb import db, vocabulary_terms
from capdb.config import Config

log = logging.getLogger(__name__)

QUEUE_NAME = "capdb"
QUEUE_FILE = "jobs.sqlite"

Schedule = Callable[[Any], bool]

__all__ = ["crontab"]


def make_queue(config: Config) -> Huey:
    """Redis when the deployment has one (shared by every host), else a file of its own."""
    if config.redis_url:
        return RedisHuey(QUEUE_NAME, url=config.redis_url, results=False)
    config.instance_path.mkdir(parents=True, exist_ok=True)
    # A file apart from the database: the queue's writes never wait for the data's.
    return SqliteHuey(
        QUEUE_NAME, filename=str(config.instance_path / QUEUE_FILE), results=False, timeout=10
    )


def init_app(app: Flask, config: Config) -> None:
    app.extensions["capdb.queue"] = make_queue(config)
    app.extensions["capdb.tasks"] = {}
    app.cli.add_command(jobs_cli)


def queue(app: Flask | None = None) -> Huey:
    found: Huey = (app or current_app).extensions["capdb.queue"]
    return found


def _in_app_context(app: Flask, function: Callable[..., Any]) -> Callable[..., Any]:
    """The function, run in an application context with a session of its own, and with
    the vocabularies as admins keep them now (as every request has them).

    The session is committed when the function returns and rolled back when it raises;
    closing it is left to the context's teardown, as for a request.
    """

    def run(*args: Any, **kwargs: Any) -> Any:
        # Jobs write: on SQLite their transactions take the write lock up front.
        with app.app_context(), db.writes():
            vocabulary_terms.refresh_quietly(db.database().sessionmaker)
            try:
                result = function(*args, **kwargs)
            except BaseException:
                if "db_session" in g:
                    g.db_session.rollback()
                raise
            if "db_session" in g:
                g.db_session.commit()
            return result

    run.__name__ = function.__name__
    run.__qualname__ = function.__qualname__
    run.__module__ = function.__module__
    return run


def register_task(app: Flask, function: Callable[..., Any], *, name: str) -> TaskWrapper:
    """Make the function a task of the application's queue, sent with :func:`send`."""
    task: TaskWrapper = queue(app).task(name=name)(_in_app_context(app, function))
    app.extensions["capdb.tasks"][name] = task
    return task


def register_periodic(
    app: Flask, function: Callable[..., Any], *, name: str, schedule: Schedule
) -> TaskWrapper:
    """Run the function on the schedule (a :func:`crontab`) in every worker's scheduler."""
    task: TaskWrapper = queue(app).periodic_task(schedule, name=name)(
        _in_app_context(app, function)
    )
    app.extensions["capdb.tasks"][name] = task
    return task


def send(name: str, *args: Any) -> None:
    """Put a message for the named task on the queue; a worker runs it."""
    current_app.extensions["capdb.tasks"][name](*args)


def queue_ready() -> str | None:
    """None when the job queue answers, else what fails (for the readiness check)."""
    try:
        queue().pending_count()
    except Exception as error:  # any failure of the storage is "not ready"
        log.warning("job queue unreachable: %s", type(error).__name__)
        return f"job queue unreachable ({type(error).__name__})"
    return None


# Progress, kept in the queue's storage -----------------------------------------------------
#
# A task's work stays in one uncommitted transaction until it ends (all or nothing), and
# SQLite lets only one connection write at a time: progress written to the database meanwhile
# would wait for the very work it describes. The queue's storage is apart from the data.


def put_progress(key: str, value: Any) -> None:
    queue().put(f"progress:{key}", value)


def peek_progress(key: str) -> Any:
    return queue().get(f"progress:{key}", peek=True)


def forget_progress(key: str) -> None:
    queue().delete(f"progress:{key}")


# The worker ---------------------------------------------------------------------------------


@click.group("jobs", cls=AppGroup)
def jobs_cli() -> None:
    """Run the background jobs."""


@jobs_cli.command("worker")
@click.option("--workers", default=1, show_default=True, help="Jobs run at the same time.")
@click.option(
    "--max-delay",
    default=2.0,
    show_default=True,
    help="Longest wait, in seconds, between two looks at a SQLite queue.",
)
def worker(workers: int, max_delay: float) -> None:
    """Run jobs from the queue until stopped (Ctrl-C or SIGTERM finish the running ones)."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    # WeasyPrint tells every step of every PDF at INFO.
    logging.getLogger("weasyprint").setLevel(logging.WARNING)
    logging.getLogger("fontTools").setLevel(logging.WARNING)
    consumer = queue().create_consumer(
        workers=workers, worker_type="thread", periodic=True, max_delay=max_delay
    )
    click.echo(f"Job worker on {type(queue()).__name__}, {workers} at a time.")
    consumer.run()
