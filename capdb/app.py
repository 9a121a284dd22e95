"""The composition root: builds the application and registers the features.

This is the one module of ``capdb`` that knows the feature packages.
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask
from flask_compress import Compress
from flask_login import current_user
from werkzeug.routing import IntegerConverter, Map
from werkzeug.wrappers import Response

from capdb import (
    cache,
    cli,
    db,
    errors,
    health,
    i18n,
    jobs,
    logs,
    proxies,
    redis_store,
    security,
    static_versions,
    vendor,
    vocabulary_terms,
)
from capdb.backup import cli as backup_cli
from capdb.config import Config
from capdb.mail import outbox as mail_outbox
from capdb.security import public


def create_app(config: Config | None = None) -> Flask:
    config = config or Config.from_env(os.environ)
    app = Flask("capdb", instance_path=str(config.instance_path))
    # Ids beyond what the database's integer holds are simply not found.
    app.url_map.converters["int"] = DatabaseId
    configure_settings(app, config)
    logs.init_app(app, config.log_level)
    db.init_app(app, db.make_engine(config.resolved_database_url, echo=config.sql_echo))
    redis_store.init_app(app, config)
    jobs.init_app(app, config)
    cache.init_app(app, config)
    mail_outbox.init_app(app)
    vocabulary_terms.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    configure_compression(app)
    static_versions.init_app(app)
    app.register_blueprint(vendor.bp)
    app.jinja_env.globals["vendor_url"] = vendor.url
    health.init_app(app, migrations=str(cli.MIGRATIONS), redis_url=config.redis_url)
    health.add_readiness_check(app, "jobs", jobs.queue_ready)
    register_features(app)
    cli.init_app(app)
    backup_cli.init_app(app)
    if config.trusted_proxies:
        app.wsgi_app = proxies.TrustedProxies(  # type: ignore[method-assign]
            app.wsgi_app, proxies.parse_proxies(config.trusted_proxies)
        )
    return app


class DatabaseId(IntegerConverter):
    def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", db.MAX_ID)
        super().__init__(url_map, *args, **kwargs)


def configure_settings(app: Flask, config: Config) -> None:
    app.extensions["capdb.config"] = config
    app.config.update(
        SECRET_KEY=config.resolved_secret_key(),
        TESTING=config.env == "test",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=config.is_production,
        WTF_CSRF_TIME_LIMIT=None,
        # The largest file (CAPDB_MAX_UPLOAD_MB) with the rest of its form.
        MAX_CONTENT_LENGTH=(config.max_upload_mb + 1) * 1024 * 1024,
    )


def configure_compression(app: Flask) -> None:
    """Compress pages and assets for users on satellite links."""
    app.config.update(
        COMPRESS_ALGORITHM=["br", "gzip"],
        # Compressing streamed files leaves them to the garbage collector to close.
        COMPRESS_STREAMS=False,
        COMPRESS_MIMETYPES=[
            "text/html",
            "text/css",
            "text/csv",
            "application/javascript",
            "text/javascript",
            "application/json",
            "application/geo+json",
            "image/svg+xml",
        ],
        COMPRESS_MIN_SIZE=1024,
    )
    Compress(app)


def place_incidents(db: Any, incident_ids: list[int]) -> None:
    """Give newly saved incidents their administrative areas."""
    from maps.assign import assign_areas

    assign_areas(db, incident_ids)


def count_new_incidents(db: Any, incident_ids: list[int]) -> None:
    """Add incidents written past the ORM to the figures kept for maps and trends."""
    from maps.figure_upkeep import count_new_incidents

    count_new_incidents(db, incident_ids)


def kept_total(db: Any, user: Any, filters: Any) -> int | None:
    """A list's total from the figures kept for maps and trends, where they answer."""
    from maps.figure_reads import reading
    from maps.trend_tables import incidents_counted

    found = reading(db, user, filters)
    return None if found is None else incidents_counted(db, found)


def register_features(app: Flask) -> None:
    from auth import audit, guard
    from incidents import concerned_hook, history, search, totals
    from incidents.attachments import search as attachment_search
    from incidents.attachments import storage
    from incidents.signals import incidents_inserted, incidents_saved
    from maps import figure_upkeep
    from notifications import wiring as notifications

    guard.init_app(app)
    storage.init_app(app, app.extensions["capdb.config"])
    audit.link_at_commit(app.extensions["capdb.db"].sessionmaker)
    history.keep_versions()
    concerned_hook.keep_current()
    figure_upkeep.keep_current()
    register_pages(app)
    register_api(app)
    register_commands(app)
    register_jobs(app)
    register_backup_checks(app)
    # The incident form's point picker draws the map's country borders.
    app.extensions["capdb.borders_endpoint"] = "maps.boundaries"
    # Connecting the same function again is a no-op, whatever number of apps are made.
    incidents_saved.connect(place_incidents)
    incidents_inserted.connect(count_new_incidents)
    totals.count_kept_with(kept_total)
    # The full-text search also finds incidents by the words of their documents.
    search.also_found_by(attachment_search.incidents_found)
    app.add_url_rule("/", endpoint="home", view_func=home)
    notifications.init_app(app)


@public
def home() -> str | Response:
    """The sign-in page to visitors; to signed-in users, their role's home with its work
    queues (:func:`notifications.views.home`)."""
    from auth.views import login
    from notifications.views import home as role_home

    return role_home() if current_user.is_authenticated else login()


def register_pages(app: Flask) -> None:
    from auth.admin_views import bp as admin_bp
    from auth.audit_views import bp as audit_bp
    from auth.recovery_views import bp as recovery_bp
    from auth.views import bp as auth_bp
    from incidents.attachments.views import bp as attachments_bp
    from incidents.comments.views import bp as comments_bp
    from incidents.help.views import bp as help_bp
    from incidents.jobs.views import bp as jobs_bp
    from incidents.justice.review_views import bp as case_reviews_bp
    from incidents.justice.views import bp as cases_bp
    from incidents.offline.views import bp as offline_bp
    from incidents.reconciliation.views import bp as reconciliation_bp
    from incidents.recording.editing_views import bp as recording_bp
    from incidents.recording.views import bp as incidents_bp
    from incidents.reference.mission_views import bp as missions_admin_bp
    from incidents.reference.term_views import bp as reference_admin_bp
    from incidents.saved.views import bp as saved_views_bp
    from incidents.transfer.views import bp as transfer_bp
    from maps.trend_views import bp as trends_bp
    from maps.views import bp as maps_bp
    from notifications.views import bp as notifications_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(audit_bp)
    app.register_blueprint(recovery_bp)
    app.register_blueprint(incidents_bp)
    app.register_blueprint(recording_bp)
    app.register_blueprint(cases_bp)
    app.register_blueprint(case_reviews_bp)
    app.register_blueprint(comments_bp)
    app.register_blueprint(transfer_bp)
    app.register_blueprint(maps_bp)
    app.register_blueprint(trends_bp)
    app.register_blueprint(jobs_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(attachments_bp)
    app.register_blueprint(offline_bp)
    app.register_blueprint(saved_views_bp)
    app.register_blueprint(help_bp)
    app.register_blueprint(missions_admin_bp)
    app.register_blueprint(reference_admin_bp)
    app.register_blueprint(reconciliation_bp)


def register_jobs(app: Flask) -> None:
    """The job worker's task, each kind of job, and the periodic jobs.

    Periodic work of other features is added here with :func:`capdb.jobs.register_periodic`
    and a :func:`capdb.jobs.crontab` schedule.
    """
    from auth.audit_anchor import link_and_anchor
    from capdb.backup.periodic import periodic_backup
    from incidents.attachments import upkeep as attachments_upkeep
    from incidents.jobs import running
    from incidents.reconciliation.un_data import refresh_from_path
    from incidents.transfer.jobs import case_dossier_job, export_job, import_job
    from maps.boundaries_job import boundaries_job
    from maps.report_job import report_job

    running.register(app)
    # Attachments: their text extracted for the search; a daily sweep of orphan files.
    attachments_upkeep.register(app)
    # Hourly: link audit entries a crash left unlinked and anchor the chain's head; nightly:
    # a backup to CAPDB_BACKUP_DIR, keeping CAPDB_BACKUP_KEEP.
    jobs.register_periodic(
        app, link_and_anchor, name="capdb.audit_anchor", schedule=jobs.crontab(minute="7")
    )
    jobs.register_periodic(
        app, periodic_backup, name="capdb.backup", schedule=jobs.crontab(hour="2", minute="37")
    )
    # Nightly: the UN's fatality data from CAPDB_UN_FATALITIES_PATH, when set and changed.
    jobs.register_periodic(
        app,
        refresh_from_path,
        name="capdb.un_fatalities",
        schedule=jobs.crontab(hour="3", minute="47"),
    )
    running.register_kinds(
        app,
        {
            "import": import_job,
            "export": export_job,
            "report": report_job,
            "case_dossier": case_dossier_job,
            "boundaries": boundaries_job,
        },
    )


def register_api(app: Flask) -> None:
    from incidents import api
    from incidents.attachments.api import blp as attachments_api_bp
    from incidents.comments.api import blp as comments_api_bp
    from incidents.justice.api import blp as cases_api_bp
    from incidents.justice.assistance_api import blp as assistance_api_bp
    from incidents.reconciliation.api import blp as reconciliation_api_bp
    from incidents.recording.api import blp as incidents_api_bp
    from incidents.recording.victims_api import blp as victims_api_bp
    from incidents.reference.missions_api import blp as missions_api_bp
    from incidents.reference.terms_api import blp as terms_api_bp
    from incidents.saved.api import blp as saved_views_api_bp
    from incidents.transfer.api import blp as exports_api_bp
    from maps.api import blp as maps_api_bp

    api.init_app(
        app,
        features=(
            incidents_api_bp,
            exports_api_bp,
            victims_api_bp,
            cases_api_bp,
            comments_api_bp,
            assistance_api_bp,
            maps_api_bp,
            attachments_api_bp,
            saved_views_api_bp,
            missions_api_bp,
            terms_api_bp,
            reconciliation_api_bp,
        ),
    )


def register_backup_checks(app: Flask) -> None:
    """The audit trail's head goes into every backup's manifest; a restore ends with
    ``audit verify``."""
    from auth.audit import check_chain
    from capdb.backup.service import register

    def audit_head(session: Any) -> dict[str, object] | None:
        newest = check_chain(session).newest
        return None if newest is None else {"position": newest.position, "hash": newest.hash}

    def audit_verify(session: Any) -> str | None:
        broken = check_chain(session).broken
        return None if broken is None else f"the audit trail is broken at {broken}"

    register(app, facts={"audit_head": audit_head}, checks={"audit verify": audit_verify})


def register_commands(app: Flask) -> None:
    from auth.audit_cli import audit_cli
    from auth.cli import tokens_cli, users_cli
    from demo.cli import demo_cli
    from incidents.reconciliation.cli import reconciliation_cli
    from incidents.reference.cli import missions_cli
    from incidents.scope_cli import scope_cli
    from incidents.transfer.cli import incidents_cli
    from maps.boundaries_cli import boundaries_cli
    from maps.figure_cli import figures_cli
    from maps.report_cli import report_cli

    for group in (
        users_cli,
        tokens_cli,
        audit_cli,
        demo_cli,
        incidents_cli,
        boundaries_cli,
        report_cli,
        scope_cli,
        figures_cli,
        missions_cli,
        reconciliation_cli,
    ):
        app.cli.add_command(group)
