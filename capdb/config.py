"""The typed configuration of capdb, read once from ``CAPDB_*`` environment variables.

Every setting has a safe default for the embedded set-up that ``make run`` serves; a
production deployment must name its database and secret key. An unknown ``CAPDB_``
variable is an error rather than a silently ignored typo.
"""

from __future__ import annotations

import dataclasses
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, fields
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from limits import parse_many  # Flask-Limiter's own parser of rates

from capdb.proxies import parse_proxies

PREFIX = "CAPDB_"
ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE = ROOT / "instance"
LOCALES = ("en", "fr")
MAIL_SCHEMES = ("smtp", "smtps", "smtp+insecure", "file")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# Read by the test suite and the benchmarks, not by the application.
NOT_FOR_THE_APP = frozenset({"CAPDB_TEST_DATABASE_URL", "CAPDB_BENCH_DATABASE_URL"})


class ConfigError(ValueError):
    """A setting is missing, malformed or unknown."""


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


@dataclass(frozen=True, kw_only=True)
class Config:
    env: Environment = Environment.DEVELOPMENT
    database_url: str = ""
    secret_key: str = ""
    instance_path: Path = DEFAULT_INSTANCE
    redis_url: str = ""
    tile_url: str = ""
    default_locale: str = "en"
    session_idle_minutes: int = 30
    session_absolute_hours: int = 12
    sql_echo: bool = False
    # Requests to the API without a valid token, per client address (a Flask-Limiter
    # string): enough for a person trying the API, not for guessing tokens.
    api_anonymous_rate_limit: str = "100/minute"
    # Where `audit anchor` writes the chain's head, one file per anchor; empty: printed.
    audit_anchor_dir: str = ""
    # Requests to the API with a valid token, per token (per user for the session cookie).
    api_rate_limit: str = "300/minute"
    # Reverse proxies whose X-Forwarded-For/-Proto are believed (addresses or networks).
    trusted_proxies: str = ""
    log_level: str = "INFO"
    # Read by gunicorn.conf.py: 0 means twice the processors plus one.
    web_workers: int = 0
    bind: str = "127.0.0.1:8000"
    # Where the periodic backups go (the instance folder's backups/ by default), and how
    # many of the newest are kept.
    backup_dir: str = ""
    backup_keep: int = 7
    # Above these sizes an import or an export runs as a background job; its result file
    # is kept this many days.
    job_import_rows: int = 1_000
    job_export_rows: int = 10_000
    job_result_days: int = 7
    # A case dossier of more incidents is made by the job worker.
    job_dossier_incidents: int = 20
    # A job still running this long after it started lost its worker: it is failed.
    job_stale_minutes: int = 360
    # Outgoing mail: smtp://host:587 (STARTTLS required), smtps://host:465 (TLS), or
    # smtp+insecure://host:25 (no encryption: a relay on this machine); user and password
    # in the URL or in the two settings below. Empty or file:///folder: each message is
    # written as a file, by default into the instance folder's mail/.
    mail_url: str = ""
    mail_from: str = "capdb <capdb@localhost>"
    mail_username: str = ""
    mail_password: str = ""
    # A message that still fails after this many tries is shown to administrators.
    mail_max_attempts: int = 8
    # The address of the site as users reach it, for the links in mail.
    base_url: str = "http://127.0.0.1:5000"
    password_reset_minutes: int = 30
    # A case with no stage change for this long is shown as stalled on the home page.
    stalled_case_days: int = 180
    # Where attachments' files are kept: empty for the instance folder's attachments/, or
    # s3://bucket/prefix for S3-compatible object storage (through boto3), reached at the
    # endpoint (empty: AWS itself) with these credentials (empty: boto3's own chain).
    storage_url: str = ""
    storage_endpoint_url: str = ""
    storage_region: str = ""
    storage_access_key_id: str = ""
    storage_secret_access_key: str = ""
    # The largest file accepted, attachments and imported spreadsheets alike (megabytes); a
    # request may be 1 MB more, for the rest of its form.
    max_upload_mb: int = 20
    # The media types an attachment may have, separated by commas; empty: PDF, images,
    # office documents, plain text and CSV.
    attachment_types: str = ""
    # A stored file that no attachment names is deleted by the sweep once this old.
    attachment_orphan_hours: int = 24
    # The UN's fatality data (its CSV) that the worker loads again each night when the file
    # changed; empty: analysts upload it.
    un_fatalities_path: str = ""

    def __post_init__(self) -> None:
        if self.default_locale not in LOCALES:
            raise ConfigError(f"CAPDB_DEFAULT_LOCALE must be one of {', '.join(LOCALES)}")
        if self.session_idle_minutes <= 0 or self.session_absolute_hours <= 0:
            raise ConfigError("session lifetimes must be positive")
        _check_rate_limit("CAPDB_API_ANONYMOUS_RATE_LIMIT", self.api_anonymous_rate_limit)
        _check_rate_limit("CAPDB_API_RATE_LIMIT", self.api_rate_limit)
        _check_serving(self)
        _check_mail(self)
        if self.backup_keep < 1:
            raise ConfigError("CAPDB_BACKUP_KEEP must be at least 1")
        _check_attachments(self)
        if self.is_production:
            if not self.database_url:
                raise ConfigError("CAPDB_DATABASE_URL is required in production")
            if len(self.secret_key) < 32:
                raise ConfigError(
                    "CAPDB_SECRET_KEY of at least 32 characters is required in production"
                )

    @property
    def is_production(self) -> bool:
        return self.env == Environment.PRODUCTION

    @property
    def resolved_database_url(self) -> str:
        """The database to use: the configured one, or the embedded SQLite file."""
        return self.database_url or f"sqlite:///{self.instance_path / 'capdb.sqlite'}"

    @property
    def resolved_backup_dir(self) -> Path:
        return Path(self.backup_dir) if self.backup_dir else self.instance_path / "backups"

    def resolved_secret_key(self) -> str:
        """The configured key, or one generated once and kept in the instance folder.

        Keeping the generated key lets sessions survive a restart of a development server
        without anyone having to invent a secret.
        """
        if self.secret_key:
            return self.secret_key
        key_file = self.instance_path / "secret_key"
        if not key_file.exists():
            self.instance_path.mkdir(parents=True, exist_ok=True)
            key_file.write_text(secrets.token_urlsafe(48))
            key_file.chmod(0o600)
        return key_file.read_text().strip()

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Config:
        known = {field.name: field for field in fields(cls)}
        values: dict[str, Any] = {}
        for key, raw in environ.items():
            if not key.startswith(PREFIX) or key in NOT_FOR_THE_APP:
                continue
            name = key.removeprefix(PREFIX).lower()
            if name not in known:
                raise ConfigError(f"unknown setting {key}")
            values[name] = _parse(key, raw, known[name].type)
        return cls(**values)

    def replace(self, **changes: Any) -> Config:
        return dataclasses.replace(self, **changes)


def _parse(key: str, raw: str, type_name: object) -> object:
    # With postponed annotations the field types are strings.
    match type_name:
        case "Environment":
            try:
                return Environment(raw)
            except ValueError:
                allowed = ", ".join(e.value for e in Environment)
                raise ConfigError(f"{key} must be one of {allowed}") from None
        case "Path":
            return Path(raw)
        case "int":
            try:
                return int(raw)
            except ValueError:
                raise ConfigError(f"{key} must be a whole number") from None
        case "bool":
            if raw.lower() in {"1", "true", "yes", "on"}:
                return True
            if raw.lower() in {"0", "false", "no", "off", ""}:
                return False
            raise ConfigError(f"{key} must be true or false")
        case _:
            return raw


def _check_rate_limit(key: str, value: str) -> None:
    try:
        parse_many(value)
    except ValueError:
        raise ConfigError(f"{key} must be a rate such as 100/minute, not {value!r}") from None


def _check_serving(config: Config) -> None:
    try:
        parse_proxies(config.trusted_proxies)
    except ValueError:
        raise ConfigError(
            "CAPDB_TRUSTED_PROXIES must list IP addresses or networks separated by commas"
        ) from None
    if config.log_level.upper() not in LOG_LEVELS:
        raise ConfigError(f"CAPDB_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}")
    if config.web_workers < 0:
        raise ConfigError("CAPDB_WEB_WORKERS must be 0 (automatic) or more")


def _check_mail(config: Config) -> None:
    scheme = urlsplit(config.mail_url).scheme
    if config.mail_url and scheme not in MAIL_SCHEMES:
        raise ConfigError(f"CAPDB_MAIL_URL must start with one of {', '.join(MAIL_SCHEMES)}")
    if config.mail_max_attempts < 1:
        raise ConfigError("CAPDB_MAIL_MAX_ATTEMPTS must be at least 1")
    if urlsplit(config.base_url).scheme not in {"http", "https"}:
        raise ConfigError("CAPDB_BASE_URL must be an http:// or https:// address")
    if config.password_reset_minutes < 1 or config.stalled_case_days < 1:
        raise ConfigError(
            "CAPDB_PASSWORD_RESET_MINUTES and CAPDB_STALLED_CASE_DAYS must be positive"
        )


def _check_attachments(config: Config) -> None:
    url = config.storage_url
    if url and not (url.startswith("s3://") and url.removeprefix("s3://").split("/")[0]):
        raise ConfigError("CAPDB_STORAGE_URL must be empty or s3://bucket/prefix")
    if config.max_upload_mb < 1:
        raise ConfigError("CAPDB_MAX_UPLOAD_MB must be at least 1")
    if config.attachment_orphan_hours < 1:
        raise ConfigError("CAPDB_ATTACHMENT_ORPHAN_HOURS must be at least 1")
    for media_type in filter(None, (t.strip() for t in config.attachment_types.split(","))):
        if not _MEDIA_TYPE.fullmatch(media_type):
            raise ConfigError(
                f"CAPDB_ATTACHMENT_TYPES must list media types such as application/pdf, "
                f"not {media_type!r}"
            )


_MEDIA_TYPE = re.compile(r"[a-z]+/[a-z0-9][a-z0-9.+-]*")


def current_config() -> Config:
    """The configuration of the application handling the current request or command."""
    from flask import current_app

    config: Config = current_app.extensions["capdb.config"]
    return config
