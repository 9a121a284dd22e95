"""Full-text search over incidents: the ``q`` of every filter (list, map, trends, exports,
API), ranked.

What is searched: an incident's reference, place, admin areas, perpetrator, narrative and
sources; the units of its victims; the national reference and charges of its cases; and
what other features find it by (:func:`also_found_by`: the words of the documents attached
to it or to its cases, for those who may download them). Never
a name or an identifier: personal data is not indexed at all, so no search can reveal it,
whoever asks. A case counts only if the viewer may see it (:func:`visible_cases`), so that
a case out of sight (pending, or of a State's that the viewer does not follow) gives nothing
away either; and the incidents found are narrowed by the access rule like any filter.

The index is kept in the same transaction as every write, by database triggers created in
the migration ``20261218_0300_full_text_search``:

- PostgreSQL: ``incident_search`` (``document`` and ``units``, ``tsvector``) and
  ``case_search`` (``document``), in both English and French (the ``capdb_en`` and
  ``capdb_fr`` text search configurations, which fold accents with ``unaccent``: "securite"
  finds "sécurité"), ranked with ``ts_rank``;
- SQLite: FTS5 tables of the same names (``porter unicode61 remove_diacritics 2``),
  ranked with ``bm25``.

The two are not declared as models (they differ by database); ``SEARCH_TABLES`` names them
for the checks that compare the schema with the models.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler

from auth.models import User
from incidents.models import Incident, JudicialCase, case_incidents
from incidents.visibility import visible_cases

# The tables (and SQLite's FTS5 shadow tables) that the migration makes beside the models.
SEARCH_TABLES = ("incident_search", "case_search")

incident_search = sa.table(
    "incident_search",
    sa.column("incident_id", sa.Integer),
    sa.column("document"),
    sa.column("units"),
    sa.column("rowid", sa.Integer),
)
case_search = sa.table(
    "case_search",
    sa.column("case_id", sa.Integer),
    sa.column("document"),
    sa.column("rowid", sa.Integer),
)


def is_search_table(name: str) -> bool:
    """The search index's tables, and the FTS5 shadow tables SQLite keeps for them."""
    return any(name == table or name.startswith(f"{table}_") for table in SEARCH_TABLES)


def outside_the_models(
    item: object, name: str | None, kind: str, _reflected: bool, _compare_to: object
) -> bool:
    """Alembic's ``include_object``: leave out the search index, which its migration makes
    per database rather than from the models."""
    table = name if kind == "table" else getattr(getattr(item, "table", None), "name", None)
    return not (isinstance(table, str) and is_search_table(table))


class PerDatabase(sa.sql.expression.ColumnElement[Any]):
    """One expression, written twice: PostgreSQL's and SQLite's, chosen as it is compiled.

    Statements holding one are compiled each time (never taken from SQLAlchemy's cache),
    since the two alternatives carry different parameters.
    """

    inherit_cache = False

    def __init__(self, postgresql: sa.ColumnElement[Any], sqlite: sa.ColumnElement[Any]) -> None:
        self.postgresql = postgresql
        self.sqlite = sqlite
        self.type = postgresql.type


@compiles(PerDatabase)
def _sqlite(element: PerDatabase, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.sqlite, **kw)


@compiles(PerDatabase, "postgresql")
def _postgresql(element: PerDatabase, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.postgresql, **kw)


# PostgreSQL ------------------------------------------------------------------------------


def _ts_query(q: str) -> sa.ColumnElement[Any]:
    """The words as an English query or a French one (websearch syntax: "quoted phrases",
    or, -excluded)."""
    english = sa.func.websearch_to_tsquery(sa.literal_column("'capdb_en'::regconfig"), q)
    french = sa.func.websearch_to_tsquery(sa.literal_column("'capdb_fr'::regconfig"), q)
    return english.op("||")(french)


def _incident_document() -> sa.ColumnElement[Any]:
    # The expression of the GIN index, word for word, so that the index answers.
    return incident_search.c.document.op("||")(incident_search.c.units)


def _postgresql_match(user: User | None, q: str) -> sa.ColumnElement[bool]:
    query = _ts_query(q)
    incidents = sa.select(incident_search.c.incident_id).where(
        _incident_document().bool_op("@@")(query)
    )
    cases = (
        sa.select(case_incidents.c.incident_id)
        .join(JudicialCase, JudicialCase.id == case_incidents.c.case_id)
        .join(case_search, case_search.c.case_id == JudicialCase.id)
        .where(case_search.c.document.bool_op("@@")(query), visible_cases(user))
    )
    return Incident.id.in_(sa.union(incidents, cases).subquery().select().correlate(None))


def _postgresql_rank(q: str) -> sa.ColumnElement[Any]:
    rank = (
        sa.select(sa.func.ts_rank(_incident_document(), _ts_query(q)))
        .where(incident_search.c.incident_id == Incident.id)
        .scalar_subquery()
    )
    return sa.func.coalesce(rank, 0.0)


# SQLite ----------------------------------------------------------------------------------

WORD = re.compile(r"\w+", re.UNICODE)


def fts_query(q: str) -> str | None:
    """The words of ``q`` as an FTS5 query: each one quoted (so that no character of the
    text is read as FTS5 syntax), all of them required; whole words, stemmed, as
    PostgreSQL matches them."""
    words = WORD.findall(q)
    if not words:
        return None
    return " ".join(f'"{word}"' for word in words)


def _sqlite_match(user: User | None, q: str) -> sa.ColumnElement[bool]:
    query = fts_query(q)
    if query is None:
        return sa.false()
    incidents = (
        sa.select(incident_search.c.rowid)
        .select_from(incident_search)
        .where(sa.literal_column("incident_search").op("MATCH")(query))
    )
    cases = (
        sa.select(case_incidents.c.incident_id)
        .join(JudicialCase, JudicialCase.id == case_incidents.c.case_id)
        .where(
            JudicialCase.id.in_(
                sa.select(case_search.c.rowid)
                .select_from(case_search)
                .where(sa.literal_column("case_search").op("MATCH")(query))
            ),
            visible_cases(user),
        )
    )
    return Incident.id.in_(sa.union(incidents, cases).subquery().select().correlate(None))


def _sqlite_rank(q: str) -> sa.ColumnElement[Any]:
    query = fts_query(q) or '""'
    rank = (
        sa.select(-sa.func.bm25(sa.literal_column("incident_search")))
        .select_from(incident_search)
        .where(
            sa.literal_column("incident_search").op("MATCH")(query),
            incident_search.c.rowid == Incident.id,
        )
        .scalar_subquery()
    )
    return sa.func.coalesce(rank, 0.0)


# What the filter asks ----------------------------------------------------------------------


# Another feature's way of finding incidents by the words of ``q``: a query of incident ids,
# within what the user may see of that feature's records. Registered by the composition
# root (capdb.app), since this module knows no feature.
Finder = Callable[[User | None, str], sa.Select[Any]]
_FINDERS: list[Finder] = []


def also_found_by(finder: Finder) -> None:
    """Let ``finder`` find incidents too (once, however many apps are made)."""
    if finder not in _FINDERS:
        _FINDERS.append(finder)


def matches(user: User | None, q: str) -> sa.ColumnElement[bool]:
    """Incidents whose text, victims' units or visible cases hold the words of ``q``, or
    that another feature finds by them (:func:`also_found_by`)."""
    own = PerDatabase(_postgresql_match(user, q), _sqlite_match(user, q))
    if not _FINDERS:
        return own
    return sa.or_(own, *(Incident.id.in_(finder(user, q).correlate(None)) for finder in _FINDERS))


def rank(q: str) -> sa.ColumnElement[Any]:
    """How well an incident's own text answers ``q``: higher is better, 0 when only one of
    its cases does."""
    return PerDatabase(_postgresql_rank(q), _sqlite_rank(q))
