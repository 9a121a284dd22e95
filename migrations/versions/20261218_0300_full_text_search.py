"""full-text search

The search index of incidents (reference, place, admin areas, perpetrator, narrative,
sources; the units of their victims) and of cases (national reference, charges), kept by
triggers in the transaction of every write; see incidents/search.py. No name or identifier
is indexed.

PostgreSQL: ``unaccent`` (created in the ``public`` schema if missing, and left there on
downgrade: other schemas of the database may use it), the ``capdb_en`` and ``capdb_fr``
text search configurations that fold accents, ``tsvector`` tables with GIN indexes, and
PL/pgSQL triggers. SQLite: FTS5 tables (``remove_diacritics``) and triggers.

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
# Only one migration at a time creates the extension (test workers may migrate at once).
EXTENSION_LOCK = 25890017


def _sql(template: str, **values: object) -> str:
    return template.format(**values)


# PostgreSQL ----------------------------------------------------------------------------------

PG_VECTOR = "setweight(to_tsvector('{config}', coalesce({text}, '')), '{weight}')"
PG_CONFIGURATION = "CREATE TEXT SEARCH CONFIGURATION {name} (COPY = pg_catalog.{parser})"
# The unaccent dictionary of the extension, in whichever schema it was installed.
PG_MAPPING = (
    "DO $$ BEGIN EXECUTE format('ALTER TEXT SEARCH CONFIGURATION {name} ALTER MAPPING FOR"
    " hword, hword_part, word WITH %s.unaccent, {stemmer}', (SELECT n.nspname FROM"
    " pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
    " WHERE e.extname = 'unaccent')); END $$"
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
        "CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public",
    ]
    for name, (parser, stemmer) in CONFIGURATIONS.items():
        statements.append(_sql(PG_CONFIGURATION, name=name, parser=parser))
        statements.append(_sql(PG_MAPPING, name=name, stemmer=stemmer))
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
