"""full-text search

The search index of incidents (reference, place, admin areas, perpetrator, narrative,
sources; the units of their victims) and of cases (national reference, charges), kept by
triggers in the transaction of every write; see incidents/search.py. No name or identifier
is indexed.

PostgreSQL: ``unaccent`` in the schema ``capdb_ext``, the ``capdb_en`` and ``capdb_fr``
text search configurations that fold accents, ``tsvector`` tables with GIN indexes, and
PL/pgSQL triggers. SQLite: FTS5 tables (``remove_diacritics``) and triggers.

The extension has a schema of its own, apart from the application's: an extension exists
once per database, whichever schemas use it, and a restore replaces the application's
schema but keeps ``capdb_ext`` (capdb/backup/databases.py), so that the configurations of
a dump, which name ``capdb_ext.unaccent``, find it again. An ``unaccent`` installed before
in another schema is moved there (what uses it refers to it by identity and keeps
working). Downgrade leaves both: other schemas of the database may use them.

Every statement is built from this module's constants only (``_sql``).

Revision ID: 8d1b6e3f4a25
Revises: 3c8f5a1e2b74
Create Date: 2026-12-18 03:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "8d1b6e3f4a25"
down_revision: str | None = "3c8f5a1e2b74"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# An incident's text, and the weight of each part in the ranking (A counts most).
INCIDENT_TEXT = {
    "reference": "A",
    "place": "A",
    "admin1": "B",
    "admin2": "B",
    "perpetrator_name": "B",
    "narrative": "C",
    "sources": "D",
}
CASE_TEXT = {"national_reference": "A", "charges": "C"}
CONFIGURATIONS = {"capdb_en": ("english", "english_stem"), "capdb_fr": ("french", "french_stem")}
# The extensions' schema, which a restore keeps (capdb/backup/databases.py names it too).
EXTENSION_SCHEMA = "capdb_ext"
# Only one migration or restore at a time creates the schema and the extension (test
# workers, each in a schema of its own, may migrate at once); the same key as a restore's.
EXTENSION_LOCK = 25890017


def _sql(template: str, **values: object) -> str:
    return template.format(**values)


# PostgreSQL ----------------------------------------------------------------------------------

PG_VECTOR = "setweight(to_tsvector('{config}', coalesce({text}, '')), '{weight}')"
PG_CONFIGURATION = "CREATE TEXT SEARCH CONFIGURATION {name} (COPY = pg_catalog.{parser})"
# Each step only when needed: a role that may use what a superuser made ready beforehand
# need not be allowed to make it (CREATE SCHEMA checks that even when the schema exists).
PG_EXTENSION = """DO $$ BEGIN
  IF to_regnamespace('{schema}') IS NULL THEN
    CREATE SCHEMA {schema};
  END IF;
  IF NOT EXISTS (SELECT FROM pg_extension WHERE extname = 'unaccent') THEN
    CREATE EXTENSION unaccent WITH SCHEMA {schema};
  ELSIF NOT EXISTS (SELECT FROM pg_extension WHERE extname = 'unaccent'
                    AND extnamespace = to_regnamespace('{schema}')) THEN
    ALTER EXTENSION unaccent SET SCHEMA {schema};
  END IF;
END $$"""
PG_MAPPING = (
    "ALTER TEXT SEARCH CONFIGURATION {name} ALTER MAPPING FOR hword, hword_part, word"
    " WITH {schema}.unaccent, {stemmer}"
)
PG_UNITS = "(SELECT {vector} FROM victims WHERE incident_id = {incident} AND deleted_at IS NULL)"
PG_TABLES = (
    "CREATE TABLE incident_search (incident_id integer PRIMARY KEY REFERENCES incidents(id)"
    " ON DELETE CASCADE, document tsvector NOT NULL, units tsvector NOT NULL)",
    # The expression incidents/search.py matches, so that the index answers.
    "CREATE INDEX ix_incident_search_document ON incident_search USING gin ((document || units))",
    "CREATE TABLE case_search (case_id integer PRIMARY KEY REFERENCES judicial_cases(id)"
    " ON DELETE CASCADE, document tsvector NOT NULL)",
    "CREATE INDEX ix_case_search_document ON case_search USING gin (document)",
)
PG_INDEX_INCIDENT = """CREATE FUNCTION capdb_index_incident() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO incident_search (incident_id, document, units)
  VALUES (NEW.id, {document}, {units})
  ON CONFLICT (incident_id) DO UPDATE SET document = EXCLUDED.document;
  RETURN NULL;
END $$"""
PG_INDEX_UNITS = """CREATE FUNCTION capdb_index_units() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN
    UPDATE incident_search SET units = {old_units} WHERE incident_id = OLD.incident_id;
  END IF;
  IF TG_OP <> 'DELETE' AND (NEW.unit IS NOT NULL OR TG_OP = 'UPDATE') THEN
    UPDATE incident_search SET units = {new_units} WHERE incident_id = NEW.incident_id;
  END IF;
  RETURN NULL;
END $$"""
PG_INDEX_CASE = """CREATE FUNCTION capdb_index_case() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO case_search (case_id, document) VALUES (NEW.id, {document})
  ON CONFLICT (case_id) DO UPDATE SET document = EXCLUDED.document;
  RETURN NULL;
END $$"""
PG_TRIGGERS = (
    "CREATE TRIGGER incidents_search AFTER INSERT OR UPDATE OF {incident_columns} ON incidents"
    " FOR EACH ROW EXECUTE FUNCTION capdb_index_incident()",
    "CREATE TRIGGER victims_search AFTER INSERT OR DELETE OR UPDATE OF unit, deleted_at,"
    " incident_id ON victims FOR EACH ROW EXECUTE FUNCTION capdb_index_units()",
    "CREATE TRIGGER judicial_cases_search AFTER INSERT OR UPDATE OF {case_columns}"
    " ON judicial_cases FOR EACH ROW EXECUTE FUNCTION capdb_index_case()",
)
# What is there already: each incident and case written again to itself fires its trigger.
PG_FILL = (
    "UPDATE incidents SET reference = reference",
    "UPDATE judicial_cases SET charges = charges",
)
PG_DROP = (
    "DROP TRIGGER judicial_cases_search ON judicial_cases",
    "DROP TRIGGER victims_search ON victims",
    "DROP TRIGGER incidents_search ON incidents",
    "DROP FUNCTION capdb_index_case()",
    "DROP FUNCTION capdb_index_units()",
    "DROP FUNCTION capdb_index_incident()",
    "DROP TABLE case_search",
    "DROP TABLE incident_search",
    "DROP TEXT SEARCH CONFIGURATION capdb_en",
    "DROP TEXT SEARCH CONFIGURATION capdb_fr",
)


def _pg_vector(text: str, weight: str) -> str:
    return " || ".join(
        _sql(PG_VECTOR, config=config, text=text, weight=weight) for config in CONFIGURATIONS
    )


def _pg_document(prefix: str, columns: dict[str, str]) -> str:
    return " || ".join(_pg_vector(f"{prefix}.{c}", weight) for c, weight in columns.items())


def _pg_units(incident: str) -> str:
    return _sql(PG_UNITS, vector=_pg_vector("string_agg(unit, ' ')", "B"), incident=incident)


def _postgresql_upgrade() -> list[str]:
    statements = [
        _sql("SELECT pg_advisory_xact_lock({lock})", lock=EXTENSION_LOCK),
        _sql(PG_EXTENSION, schema=EXTENSION_SCHEMA),
    ]
    for name, (parser, stemmer) in CONFIGURATIONS.items():
        statements.append(_sql(PG_CONFIGURATION, name=name, parser=parser))
        statements.append(_sql(PG_MAPPING, name=name, schema=EXTENSION_SCHEMA, stemmer=stemmer))
    statements += [
        *PG_TABLES,
        _sql(
            PG_INDEX_INCIDENT,
            document=_pg_document("NEW", INCIDENT_TEXT),
            units=_pg_units("NEW.id"),
        ),
        _sql(
            PG_INDEX_UNITS,
            old_units=_pg_units("OLD.incident_id"),
            new_units=_pg_units("NEW.incident_id"),
        ),
        _sql(PG_INDEX_CASE, document=_pg_document("NEW", CASE_TEXT)),
    ]
    columns = {"incident_columns": ", ".join(INCIDENT_TEXT), "case_columns": ", ".join(CASE_TEXT)}
    statements += [_sql(trigger, **columns) for trigger in PG_TRIGGERS]
    return [*statements, *PG_FILL]


# SQLite -------------------------------------------------------------------------------------

SQLITE_TOKENIZER = "porter unicode61 remove_diacritics 2"
SQLITE_UNITS = (
    "(SELECT coalesce(group_concat(unit, ' '), '') FROM victims"
    " WHERE incident_id = {incident} AND deleted_at IS NULL)"
)
SQLITE_STATEMENTS = (
    "CREATE VIRTUAL TABLE incident_search USING fts5(document, units, tokenize='{tokenizer}')",
    "CREATE VIRTUAL TABLE case_search USING fts5(document, tokenize='{tokenizer}')",
    "CREATE TRIGGER incidents_search_insert AFTER INSERT ON incidents BEGIN INSERT INTO"
    " incident_search (rowid, document, units) VALUES (new.id, {incident}, {incident_units});"
    " END",
    "CREATE TRIGGER incidents_search_update AFTER UPDATE OF {incident_columns} ON incidents"
    " BEGIN UPDATE incident_search SET document = {incident} WHERE rowid = new.id; END",
    "CREATE TRIGGER incidents_search_delete AFTER DELETE ON incidents BEGIN"
    " DELETE FROM incident_search WHERE rowid = old.id; END",
    "CREATE TRIGGER victims_search_insert AFTER INSERT ON victims WHEN new.unit IS NOT NULL"
    " BEGIN UPDATE incident_search SET units = {new_units} WHERE rowid = new.incident_id; END",
    "CREATE TRIGGER victims_search_update AFTER UPDATE OF unit, deleted_at, incident_id"
    " ON victims BEGIN UPDATE incident_search SET units = {old_units}"
    " WHERE rowid = old.incident_id; UPDATE incident_search SET units = {new_units}"
    " WHERE rowid = new.incident_id; END",
    "CREATE TRIGGER victims_search_delete AFTER DELETE ON victims BEGIN"
    " UPDATE incident_search SET units = {old_units} WHERE rowid = old.incident_id; END",
    "CREATE TRIGGER judicial_cases_search_insert AFTER INSERT ON judicial_cases BEGIN"
    " INSERT INTO case_search (rowid, document) VALUES (new.id, {case}); END",
    "CREATE TRIGGER judicial_cases_search_update AFTER UPDATE OF {case_columns}"
    " ON judicial_cases BEGIN UPDATE case_search SET document = {case} WHERE rowid = new.id;"
    " END",
    "CREATE TRIGGER judicial_cases_search_delete AFTER DELETE ON judicial_cases BEGIN"
    " DELETE FROM case_search WHERE rowid = old.id; END",
    # What is there already.
    "INSERT INTO incident_search (rowid, document, units) SELECT id, {existing_incident},"
    " {existing_units} FROM incidents",
    "INSERT INTO case_search (rowid, document) SELECT id, {existing_case} FROM judicial_cases",
)
SQLITE_TRIGGERS = {
    "incidents": ("insert", "update", "delete"),
    "victims": ("insert", "update", "delete"),
    "judicial_cases": ("insert", "update", "delete"),
}


def _sqlite_text(prefix: str, columns: dict[str, str]) -> str:
    return " || ' ' || ".join(f"coalesce({prefix}.{column}, '')" for column in columns)


def _sqlite_upgrade() -> list[str]:
    values = {
        "tokenizer": SQLITE_TOKENIZER,
        "incident": _sqlite_text("new", INCIDENT_TEXT),
        "incident_units": _sql(SQLITE_UNITS, incident="new.id"),
        "incident_columns": ", ".join(INCIDENT_TEXT),
        "new_units": _sql(SQLITE_UNITS, incident="new.incident_id"),
        "old_units": _sql(SQLITE_UNITS, incident="old.incident_id"),
        "case": _sqlite_text("new", CASE_TEXT),
        "case_columns": ", ".join(CASE_TEXT),
        "existing_incident": _sqlite_text("incidents", INCIDENT_TEXT),
        "existing_units": _sql(SQLITE_UNITS, incident="incidents.id"),
        "existing_case": _sqlite_text("judicial_cases", CASE_TEXT),
    }
    return [_sql(statement, **values) for statement in SQLITE_STATEMENTS]


def _sqlite_downgrade() -> list[str]:
    statements = [
        _sql("DROP TRIGGER {table}_search_{event}", table=table, event=event)
        for table, events in SQLITE_TRIGGERS.items()
        for event in events
    ]
    return [*statements, "DROP TABLE case_search", "DROP TABLE incident_search"]


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in _postgresql_upgrade() if dialect == "postgresql" else _sqlite_upgrade():
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in PG_DROP if dialect == "postgresql" else _sqlite_downgrade():
        op.execute(statement)
