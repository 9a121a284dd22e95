"""What the demo data is drawn from: how often each mission was attacked, how, where and
by whom, who the victims were, and how far judicial cases get.

Approximations of the public record, for demonstration only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

FIRST_DAY = date(2013, 1, 1)


LAST_DAY = date(2026, 9, 30)


# Relative number of attacks a year, by mission and period: an approximation of the
# public record, in which MINUSMA dominates until its closure.
MISSION_INTENSITY: dict[str, list[tuple[int, int, float]]] = {
    "MINUSMA": [(2013, 2013, 6), (2014, 2019, 14), (2020, 2023, 10)],
    "MINUSCA": [(2014, 2016, 4), (2017, 2021, 6), (2022, 2026, 4)],
    "MONUSCO": [(2013, 2018, 4), (2019, 2026, 6)],
    "UNMISS": [(2013, 2026, 2.5)],
    "UNAMID": [(2013, 2016, 3), (2017, 2020, 1)],
    "UNIFIL": [(2013, 2022, 0.4), (2023, 2025, 2.5), (2026, 2026, 0.8)],
    "UNISFA": [(2013, 2026, 0.8)],
    "UNDOF": [(2013, 2015, 0.6), (2016, 2026, 0.1)],
    "MINUSTAH": [(2013, 2017, 0.5)],
    "MINUJUSTH": [(2017, 2019, 0.3)],
    "UNOCI": [(2013, 2017, 0.4)],
    "UNMIL": [(2013, 2018, 0.2)],
    "MINURSO": [(2013, 2026, 0.08)],
    "UNFICYP": [(2013, 2026, 0.05)],
    "UNMIK": [(2013, 2026, 0.05)],
    "UNTSO": [(2013, 2026, 0.05)],
    "UNMOGIP": [(2013, 2026, 0.05)],
}


# Means of attack by mission profile, with the contexts each means is usually met in.
MEANS_PROFILES: dict[str, dict[str, float]] = {
    "MINUSMA": {
        "ied": 34,
        "indirect_fire": 20,
        "small_arms": 18,
        "complex_attack": 8,
        "vbied": 5,
        "suicide_attack": 3,
        "landmine": 6,
        "rpg": 3,
        "abduction": 1,
        "other": 2,
    },
    "MONUSCO": {
        "small_arms": 48,
        "rpg": 8,
        "indirect_fire": 6,
        "bladed_weapon": 8,
        "mob_violence": 14,
        "ied": 5,
        "arson": 4,
        "abduction": 3,
        "other": 4,
    },
    "MINUSCA": {
        "small_arms": 50,
        "rpg": 6,
        "ied": 8,
        "landmine": 7,
        "grenade": 5,
        "mob_violence": 10,
        "bladed_weapon": 5,
        "abduction": 4,
        "other": 5,
    },
    "UNIFIL": {"indirect_fire": 35, "mob_violence": 30, "small_arms": 15, "ied": 5, "other": 15},
    "default": {
        "small_arms": 50,
        "mob_violence": 12,
        "bladed_weapon": 8,
        "grenade": 6,
        "indirect_fire": 6,
        "abduction": 6,
        "arson": 4,
        "other": 8,
    },
}


CONTEXTS: dict[str, Sequence[str]] = {
    "ied": ("convoy", "patrol", "escort", "demining"),
    "vbied": ("camp_attack", "convoy", "checkpoint"),
    "suicide_attack": ("camp_attack", "checkpoint"),
    "landmine": ("convoy", "patrol", "demining"),
    "small_arms": ("ambush", "patrol", "camp_attack", "checkpoint", "escort", "convoy"),
    "indirect_fire": ("camp_attack",),
    "rpg": ("ambush", "convoy", "camp_attack"),
    "grenade": ("checkpoint", "crowd", "patrol"),
    "bladed_weapon": ("criminal", "off_duty", "patrol"),
    "arson": ("crowd", "camp_attack"),
    "mob_violence": ("crowd", "patrol", "checkpoint"),
    "abduction": ("criminal", "off_duty", "patrol"),
    "complex_attack": ("camp_attack", "convoy"),
    "other": ("other", "patrol"),
}


LOCATIONS: dict[str, Sequence[str]] = {
    "ambush": ("road", "rural"),
    "convoy": ("road",),
    "camp_attack": ("camp",),
    "patrol": ("road", "rural", "town"),
    "checkpoint": ("checkpoint",),
    "escort": ("road", "waterway"),
    "demining": ("road", "rural"),
    "crowd": ("town",),
    "criminal": ("town",),
    "off_duty": ("town",),
    "other": ("other", "town", "airfield"),
}


PERPETRATORS: dict[str, list[tuple[str, str | None]]] = {
    "MINUSMA": [
        ("terrorist_group", "JNIM"),
        ("terrorist_group", "ISGS"),
        ("terrorist_group", "Ansar Dine"),
        ("armed_group", None),
        ("unknown", None),
    ],
    "MONUSCO": [
        ("armed_group", "ADF"),
        ("armed_group", "M23"),
        ("militia", "CODECO"),
        ("militia", "Mai-Mai"),
        ("mob", None),
        ("unknown", None),
    ],
    "MINUSCA": [
        ("armed_group", "3R"),
        ("armed_group", "UPC"),
        ("militia", "anti-Balaka"),
        ("armed_group", "FPRC"),
        ("criminal_group", None),
        ("unknown", None),
    ],
    "UNMISS": [
        ("militia", "White Army"),
        ("state_forces", None),
        ("armed_group", None),
        ("criminal_group", None),
        ("unknown", None),
    ],
    "UNAMID": [
        ("armed_group", None),
        ("criminal_group", None),
        ("militia", None),
        ("unknown", None),
    ],
    "default": [
        ("armed_group", None),
        ("criminal_group", None),
        ("mob", None),
        ("individual", None),
        ("unknown", None),
    ],
}


CATEGORIES = {
    "contingent_military": 74,
    "formed_police_unit": 8,
    "individual_police": 3,
    "military_expert": 3,
    "national_civilian": 7,
    "international_civilian": 2,
    "un_volunteer": 1,
    "contractor": 2,
}


INTERNATIONAL_STAFF = ("FRA", "USA", "KEN", "CMR", "SEN", "CAN", "ITA", "PHL", "IND", "UGA")


GIVEN_NAMES = (
    "Amadou",
    "Moussa",
    "Ibrahim",
    "Jean",
    "Pierre",
    "Aisha",
    "Fatou",
    "Rahim",
    "Kofi",
    "Samuel",
    "Mariam",
    "Joseph",
    "Ali",
    "Grace",
    "Hassan",
    "Nadia",
)


FAMILY_NAMES = (
    "Traoré",
    "Diallo",
    "Hossain",
    "Mensah",
    "Mahamat",
    "Kagame",
    "Singh",
    "Okafor",
    "Ndiaye",
    "Koné",
    "Rahman",
    "Banda",
    "Osei",
    "Yusuf",
    "Diop",
)


# The stages a case climbs, with the chance of climbing one more rung; where it stops, it
# has stalled, and some stalled cases are formally closed or suspended.
LADDER: list[tuple[str, float]] = [
    ("reported", 1.0),
    ("investigation_opened", 0.85),
    ("suspect_identified", 0.55),
    ("warrant_issued", 0.7),
    ("arrested", 0.6),
    ("charged", 0.8),
    ("referred_to_court", 0.75),
    ("trial_opened", 0.7),
    ("convicted", 0.78),
    ("sentenced", 0.95),
    ("appeal", 0.3),
    ("final", 0.9),
]


CASE_LEVEL = {"reported", "investigation_opened"}
