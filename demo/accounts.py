"""The demo accounts: one per role, with passwords and authenticator secrets that are
printed by ``flask demo logins`` and must never serve a real deployment.

Each mission officer has at least one mission still operating, so that an incident of
today is recordable: MINUSMA closed on 2023-12-31, and its officers also keep the records
of the other UN presence in Mali (UNP-MLI), which the seed adds.
"""

from __future__ import annotations

from typing import Any


def demo_password(role: str) -> str:
    return f"demo-{role.replace('_', '-')}-password"


# Secrets for the demo accounts' authenticator apps; demo data only, never for real use.
DEMO_ACCOUNTS: list[dict[str, Any]] = [
    {
        "email": "admin@capdb.example",
        "role": "admin",
        "missions": [],
        "state": None,
        "totp": "JBSWY3DPEHPK3PXPADMINAAA",
    },
    {
        "email": "analyst@capdb.example",
        "role": "analyst",
        "missions": [],
        "state": None,
        "totp": "JBSWY3DPEHPK3PXPANALYSTA",
    },
    {
        "email": "minusma@capdb.example",
        "role": "mission",
        "missions": ["MINUSMA", "UNP-MLI"],
        "state": None,
        "totp": "JBSWY3DPEHPK3PXPMINUSMAA",
    },
    {
        "email": "minusma.validator@capdb.example",
        "role": "mission",
        "missions": ["MINUSMA", "UNP-MLI"],
        "state": None,
        "totp": "JBSWY3DPEHPK3PXPVALIDATE",
    },
    {
        "email": "monusco@capdb.example",
        "role": "mission",
        "missions": ["MONUSCO", "MINUSCA"],
        "state": None,
        "totp": "JBSWY3DPEHPK3PXPMONUSCOA",
    },
    {
        "email": "mali@capdb.example",
        "role": "member_state",
        "missions": [],
        "state": "MLI",
        "totp": "JBSWY3DPEHPK3PXPMALIAAAA",
    },
    {
        "email": "chad@capdb.example",
        "role": "member_state",
        "missions": [],
        "state": "TCD",
        "totp": "JBSWY3DPEHPK3PXPCHADAAAA",
        # Chad's focal point reads capdb's mail in French.
        "locale": "fr",
    },
    {
        "email": "bangladesh@capdb.example",
        "role": "member_state",
        "missions": [],
        "state": "BGD",
        "totp": "JBSWY3DPEHPK3PXPBGDAAAAA",
    },
]


# The language each demo account is meant to be tried in (the pages follow the browser and
# the language switch; this is what `flask demo logins` suggests). English when not listed.
DEMO_LANGUAGES: dict[str, str] = {
    "minusma@capdb.example": "fr",
    "minusma.validator@capdb.example": "fr",
    "monusco@capdb.example": "fr",
    "mali@capdb.example": "fr",
    "chad@capdb.example": "fr",
}


def demo_language(email: str) -> str:
    return DEMO_LANGUAGES.get(email, "en")
