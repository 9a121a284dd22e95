"""The controlled vocabularies of capdb, each defined once with English and French labels.

Records store the stable lowercase code, and models refuse any other value as the attribute
is set, with a :class:`VocabularyError` that names the vocabulary and the codes it allows.

Most vocabularies are fixed: the application's own states and kinds, which the database
holds to their codes with a CHECK constraint. The vocabularies that describe what happened
and what justice did (:data:`KEPT`) are kept by admins instead: the terms below are what
capdb ships, copied into ``vocabulary_terms`` (:mod:`capdb.vocabulary_terms`), where admins
change labels, add terms without a release and retire terms (hidden from new records, kept
on old ones). Their columns take any code; the terms are reloaded from the table whenever
it changes (:func:`capdb.vocabulary_terms.refresh`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapper

from capdb.db import Base

CODE_MAX = 40


@dataclass(frozen=True)
class Term:
    code: str
    en: str
    fr: str
    # Hidden from new records, kept on old ones.
    retired: bool = False
    # A personnel category of uniformed personnel (who have a contributing country).
    uniformed: bool = False

    def label(self, locale: str) -> str:
        return self.fr if locale.startswith("fr") else self.en


class VocabularyError(ValueError):
    def __init__(self, vocabulary: Vocabulary, value: object) -> None:
        self.vocabulary = vocabulary
        self.value = value
        allowed = ", ".join(vocabulary.codes)
        super().__init__(f"{value!r} is not a valid {vocabulary.title_en}; use one of: {allowed}")


class Vocabulary:
    def __init__(self, name: str, title_en: str, title_fr: str, *terms: Term) -> None:
        self.name = name
        self.title_en = title_en
        self.title_fr = title_fr
        self.shipped = terms
        self._terms = {term.code: term for term in terms}
        # Kept by admins (see the module's docstring); the codes the application names
        # (figures count "killed"), which stay in use.
        self.kept = False
        self.protected: frozenset[str] = frozenset()

    @property
    def codes(self) -> tuple[str, ...]:
        """Every code, retired ones included: old records hold them."""
        return tuple(self._terms)

    def __iter__(self) -> Iterator[Term]:
        return iter(self._terms.values())

    def __contains__(self, code: object) -> bool:
        return code in self._terms

    def __getitem__(self, code: str) -> Term:
        return self._terms[code]

    def active(self, current: Iterable[str | None] = ()) -> list[Term]:
        """The terms a new value is chosen from, and those of ``current`` (a record's own
        values), retired or not."""
        kept = set(current)
        return [t for t in self._terms.values() if not t.retired or t.code in kept]

    def is_retired(self, code: object) -> bool:
        term = self._terms.get(code) if isinstance(code, str) else None
        return term is not None and term.retired

    @property
    def uniformed(self) -> frozenset[str]:
        return frozenset(t.code for t in self._terms.values() if t.uniformed)

    def replace_terms(self, terms: Iterable[Term]) -> None:
        """The terms as admins keep them (shipped ones missing from ``terms`` stay)."""
        given = {term.code: term for term in terms}
        shipped = {t.code: t for t in self.shipped if t.code not in given}
        self._terms = shipped | given

    def validate(self, value: object) -> str:
        if not isinstance(value, str) or value not in self._terms:
            raise VocabularyError(self, value)
        return value

    def label(self, code: str, locale: str) -> str:
        term = self._terms.get(code)
        return term.label(locale) if term is not None else code

    def title(self, locale: str) -> str:
        return self.title_fr if locale.startswith("fr") else self.title_en

    def column_type(self) -> sa.types.TypeEngine[str]:
        """A short string column: held to the vocabulary by the database (fixed ones) or by
        the models (kept ones, which take new codes without a release)."""
        if self.kept:
            return KeptCode(self.name)
        return sa.Enum(
            *self.codes,
            name=self.name,
            native_enum=False,
            create_constraint=True,
            length=CODE_MAX,
        )


class KeptCode(sa.types.TypeDecorator[str]):
    """The code of a vocabulary admins keep: a string column the models check."""

    impl = sa.String(CODE_MAX)
    cache_ok = True

    def __init__(self, vocabulary: str) -> None:
        super().__init__()
        self.vocabulary = vocabulary

    @property
    def python_type(self) -> type[str]:
        return str


VOCABULARIES: dict[str, Vocabulary] = {}


def _define(name: str, title_en: str, title_fr: str, *terms: tuple[str, str, str]) -> Vocabulary:
    vocabulary = Vocabulary(name, title_en, title_fr, *(Term(*t) for t in terms))
    VOCABULARIES[name] = vocabulary
    return vocabulary


MEANS_OF_ATTACK = _define(
    "means_of_attack",
    "means of attack",
    "moyen d'attaque",
    ("ied", "Improvised explosive device", "Engin explosif improvisé"),
    ("vbied", "Vehicle-borne IED", "Engin explosif improvisé embarqué sur véhicule"),
    ("suicide_attack", "Suicide attack", "Attentat-suicide"),
    ("landmine", "Landmine or explosive remnant", "Mine ou reste explosif de guerre"),
    ("small_arms", "Small arms fire", "Tirs d'armes légères"),
    (
        "indirect_fire",
        "Indirect fire (mortar, rocket, artillery)",
        "Tirs indirects (mortier, roquette, artillerie)",
    ),
    ("rpg", "Rocket-propelled grenade", "Lance-roquettes"),
    ("grenade", "Hand grenade", "Grenade à main"),
    ("bladed_weapon", "Bladed weapon", "Arme blanche"),
    ("arson", "Arson", "Incendie criminel"),
    (
        "mob_violence",
        "Mob violence, stones or blunt objects",
        "Violence de foule, pierres ou objets contondants",
    ),
    ("abduction", "Abduction", "Enlèvement"),
    ("complex_attack", "Complex attack", "Attaque complexe"),
    ("other", "Other", "Autre"),
)

ATTACK_CONTEXT = _define(
    "attack_context",
    "attack context",
    "contexte de l'attaque",
    ("ambush", "Ambush", "Embuscade"),
    ("convoy", "Attack on a convoy", "Attaque de convoi"),
    ("camp_attack", "Attack on a camp or base", "Attaque d'un camp ou d'une base"),
    ("patrol", "During a patrol", "Pendant une patrouille"),
    ("checkpoint", "At a checkpoint", "À un poste de contrôle"),
    ("escort", "During an escort", "Pendant une escorte"),
    ("demining", "During demining or explosive disposal", "Pendant un déminage"),
    ("crowd", "Hostile crowd", "Foule hostile"),
    ("criminal", "Robbery or banditry", "Vol ou banditisme"),
    ("off_duty", "Off duty", "Hors service"),
    ("other", "Other", "Autre"),
)

LOCATION_TYPE = _define(
    "location_type",
    "location type",
    "type de lieu",
    ("camp", "Camp or base", "Camp ou base"),
    ("road", "Road or supply route", "Route ou axe de ravitaillement"),
    ("town", "Town or village", "Ville ou village"),
    ("rural", "Rural area", "Zone rurale"),
    ("checkpoint", "Checkpoint", "Poste de contrôle"),
    ("airfield", "Airfield or helipad", "Aérodrome ou hélisurface"),
    ("waterway", "River or waterway", "Fleuve ou voie navigable"),
    ("other", "Other", "Autre"),
)

PERPETRATOR_TYPE = _define(
    "perpetrator_type",
    "perpetrator type",
    "type d'auteur",
    ("armed_group", "Non-state armed group", "Groupe armé non étatique"),
    ("terrorist_group", "Group listed as terrorist", "Groupe inscrit comme terroriste"),
    ("militia", "Militia or self-defence group", "Milice ou groupe d'autodéfense"),
    ("state_forces", "State security forces", "Forces de sécurité de l'État"),
    ("criminal_group", "Criminal group", "Groupe criminel"),
    ("mob", "Crowd or mob", "Foule"),
    ("individual", "Individual", "Individu"),
    ("unknown", "Unknown", "Inconnu"),
)

PERSONNEL_CATEGORY = _define(
    "personnel_category",
    "personnel category",
    "catégorie de personnel",
    ("contingent_military", "Contingent military", "Militaire de contingent"),
    (
        "military_expert",
        "Military expert on mission or staff officer",
        "Expert militaire en mission ou officier d'état-major",
    ),
    ("individual_police", "Individual police officer", "Policier hors unité constituée"),
    ("formed_police_unit", "Formed police unit", "Unité de police constituée"),
    ("international_civilian", "International civilian", "Civil recruté sur le plan international"),
    ("national_civilian", "National civilian", "Civil recruté sur le plan national"),
    ("un_volunteer", "UN Volunteer", "Volontaire des Nations Unies"),
    ("contractor", "Contractor", "Prestataire"),
)

UNIFORMED_CATEGORIES = frozenset(
    {"contingent_military", "military_expert", "individual_police", "formed_police_unit"}
)

OUTCOME = _define(
    "outcome",
    "outcome",
    "conséquence",
    ("killed", "Killed", "Tué"),
    ("injured", "Injured", "Blessé"),
    ("abducted", "Abducted", "Enlevé"),
    ("detained", "Detained", "Détenu"),
)

SEX = _define(
    "sex",
    "sex",
    "sexe",
    ("female", "Female", "Femme"),
    ("male", "Male", "Homme"),
    ("unknown", "Not recorded", "Non renseigné"),
)

JUDICIAL_STAGE = _define(
    "judicial_stage",
    "judicial stage",
    "étape judiciaire",
    ("reported", "Reported to authorities", "Signalé aux autorités"),
    ("investigation_opened", "Investigation opened", "Enquête ouverte"),
    ("suspect_identified", "Suspect identified", "Suspect identifié"),
    ("warrant_issued", "Warrant issued", "Mandat délivré"),
    ("arrested", "Arrested or detained", "Arrêté ou détenu"),
    ("charged", "Charged", "Inculpé"),
    ("referred_to_court", "Referred to court", "Renvoyé devant la juridiction"),
    ("trial_opened", "Trial opened", "Procès ouvert"),
    ("convicted", "Convicted", "Condamné"),
    ("acquitted", "Acquitted", "Acquitté"),
    ("sentenced", "Sentenced", "Peine prononcée"),
    ("appeal", "Appeal", "Appel"),
    ("final", "Final judgment", "Jugement définitif"),
    ("closed_without_action", "Closed without action", "Classé sans suite"),
    ("suspended", "Suspended", "Suspendu"),
    ("transferred", "Transferred", "Transféré"),
)

JURISDICTION = _define(
    "jurisdiction",
    "jurisdiction",
    "juridiction",
    ("ordinary", "Ordinary court", "Juridiction ordinaire"),
    ("military", "Military court", "Juridiction militaire"),
    ("special_court", "Special court", "Juridiction spéciale"),
    ("international", "International court", "Juridiction internationale"),
)

VERIFICATION_STATUS = _define(
    "verification_status",
    "verification status",
    "statut de vérification",
    ("draft", "Draft", "Brouillon"),
    ("submitted", "Submitted", "Soumis"),
    ("validated", "Validated", "Validé"),
)

REVIEW_STATUS = _define(
    "review_status",
    "review status",
    "statut d'examen",
    ("pending", "Pending validation", "En attente de validation"),
    ("validated", "Validated", "Validé"),
    ("rejected", "Rejected", "Rejeté"),
)

DATE_PRECISION = _define(
    "date_precision",
    "date precision",
    "précision de la date",
    ("exact", "Exact date and time", "Date et heure exactes"),
    ("day", "Day known", "Jour connu"),
    ("month", "Month known", "Mois connu"),
)

GEO_PRECISION = _define(
    "geo_precision",
    "location precision",
    "précision du lieu",
    ("exact", "Exact location", "Lieu exact"),
    ("nearby_town", "Nearby town", "Localité proche"),
    ("admin_area", "Administrative area", "Zone administrative"),
    ("country", "Country only", "Pays seulement"),
)

ASSISTANCE_KIND = _define(
    "assistance_kind",
    "kind of assistance",
    "type d'assistance",
    ("training", "Training", "Formation"),
    ("technical", "Technical assistance", "Assistance technique"),
    ("logistical", "Logistical support", "Appui logistique"),
    ("investigators_deployed", "Investigators deployed", "Déploiement d'enquêteurs"),
)

COMMENT_KIND = _define(
    "comment_kind",
    "kind of comment",
    "type de commentaire",
    ("comment", "Comment", "Commentaire"),
    ("clarification_request", "Request for clarification", "Demande d'éclaircissement"),
)

MISSION_KIND = _define(
    "mission_kind",
    "kind of mission",
    "type de mission",
    ("peacekeeping", "Peacekeeping operation", "Opération de maintien de la paix"),
    ("political", "Special political mission or office", "Mission politique spéciale ou bureau"),
    ("support_office", "Support office", "Bureau d'appui"),
    ("other_presence", "Other UN presence", "Autre présence des Nations Unies"),
)

COUNTRY_KIND = _define(
    "country_kind",
    "kind of country",
    "type de pays",
    ("current", "Country or territory", "Pays ou territoire"),
    ("historical", "Former State", "Ancien État"),
    ("nationality_status", "Nationality status", "Situation de nationalité"),
)

ROLE = _define(
    "role",
    "role",
    "rôle",
    ("mission", "Mission officer", "Officier de mission"),
    ("member_state", "Member State focal point", "Point focal d'un État Membre"),
    ("analyst", "HQ analyst", "Analyste au Siège"),
    ("admin", "Administrator", "Administrateur"),
)

AUDIT_ACTION = _define(
    "audit_action",
    "audit action",
    "action journalisée",
    ("view", "View", "Consultation"),
    ("create", "Create", "Création"),
    ("update", "Update", "Modification"),
    ("delete", "Delete", "Suppression"),
    ("restore", "Restore", "Restauration"),
    ("export", "Export", "Exportation"),
    ("import", "Import", "Importation"),
    ("login", "Login", "Connexion"),
    ("login_failed", "Failed login", "Échec de connexion"),
    ("lockout", "Account locked", "Compte verrouillé"),
    ("logout", "Logout", "Déconnexion"),
    ("permission_change", "Permission change", "Modification des droits"),
)

ATTACHMENT_KIND = _define(
    "attachment_kind",
    "kind of document",
    "type de document",
    ("report", "Report", "Rapport"),
    ("judgment", "Judgment", "Jugement"),
    ("photo", "Photograph", "Photographie"),
    ("other", "Other document", "Autre document"),
)


# The vocabularies admins keep, with the codes the application itself names (figures count
# the killed and injured, the justice ladder its stages): those are never retired.
def _keep(vocabulary: Vocabulary, protected: Iterable[str] = ()) -> None:
    vocabulary.kept = True
    vocabulary.protected = frozenset(protected)


PERSONNEL_CATEGORY.shipped = tuple(
    replace(term, uniformed=term.code in UNIFORMED_CATEGORIES) for term in PERSONNEL_CATEGORY
)
PERSONNEL_CATEGORY.replace_terms(())
for _kept in (MEANS_OF_ATTACK, ATTACK_CONTEXT, PERPETRATOR_TYPE, PERSONNEL_CATEGORY, JURISDICTION):
    _keep(_kept)
_keep(OUTCOME, OUTCOME.codes)
_keep(JUDICIAL_STAGE, JUDICIAL_STAGE.codes)
KEPT = tuple(v for v in VOCABULARIES.values() if v.kept)


@event.listens_for(Base, "mapper_configured", propagate=True)
def _validate_vocabulary_columns(mapper: Mapper[Any], cls: type) -> None:
    """Refuse an unknown code as soon as it is assigned, not at flush time."""
    for attribute in mapper.column_attrs:
        column = attribute.columns[0]
        vocabulary = vocabulary_of(column)
        if vocabulary is not None:
            event.listen(
                getattr(cls, attribute.key),
                "set",
                _setter(vocabulary, column.nullable),
                retval=True,
            )


def vocabulary_of(column: sa.ColumnElement[Any]) -> Vocabulary | None:
    """The vocabulary a column holds the codes of, fixed or kept by admins; None for any
    other column."""
    column_type = column.type
    if isinstance(column_type, KeptCode):
        return VOCABULARIES.get(column_type.vocabulary)
    if isinstance(column_type, sa.Enum) and not column_type.native_enum:
        return VOCABULARIES.get(column_type.name or "")
    return None


def _setter(vocabulary: Vocabulary, nullable: bool | None) -> Any:
    def validate(_target: object, value: object, _old: object, _initiator: object) -> object:
        if value is None and nullable:
            return None
        return vocabulary.validate(value)

    return validate
