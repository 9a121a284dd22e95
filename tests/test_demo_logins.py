"""Setup in one read: ``demo logins`` prints where to sign in and the demo users, and
``demo totp EMAIL`` a code the server accepts now."""

from __future__ import annotations

import sqlalchemy as sa
from flask.testing import FlaskCliRunner
from sqlalchemy.orm import Session

from auth import credentials
from auth.models import User


def test_logins_print_the_url_and_the_demo_users(cli: FlaskCliRunner) -> None:
    result = cli.invoke(args=["demo", "logins", "--url", "http://127.0.0.1:5001/"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert (
        lines[0] == "capdb: open http://127.0.0.1:5001/ and sign in as one of the demo users below."
    )
    assert "demo totp EMAIL" in result.output
    assert "demo/accounts.py" in result.output
    header = next(line for line in lines if line.startswith("email"))
    assert header.split() == [
        "email",
        "role",
        "missions",
        "or",
        "State",
        "language",
        "password",
        "TOTP",
        "secret",
    ]
    chad = next(line for line in lines if line.startswith("chad@capdb.example"))
    assert chad.split()[1:4] == ["member_state", "TCD", "fr"]
    monusco = next(line for line in lines if line.startswith("monusco@capdb.example"))
    assert "MONUSCO, MINUSCA" in monusco


def test_totp_prints_a_code_the_server_accepts_now_and_again(
    cli: FlaskCliRunner, db: Session
) -> None:
    assert cli.invoke(args=["demo", "seed", "--incidents", "5"]).exit_code == 0
    user = db.scalars(sa.select(User).where(User.email == "chad@capdb.example")).one()
    first = cli.invoke(args=["demo", "totp", "chad@capdb.example"])
    assert first.exit_code == 0, first.output
    code = first.stdout.strip()
    assert len(code) == 6
    assert code.isdigit()
    assert credentials.check_totp(db, user, code)
    db.flush()
    # The code is spent; the next one printed is another, accepted too.
    second = cli.invoke(args=["demo", "totp", "chad@capdb.example"]).stdout.strip()
    assert second != code
    assert credentials.check_totp(db, user, second)
    refused = cli.invoke(args=["demo", "totp", "someone@else.example"])
    assert refused.exit_code == 1
    assert "not a demo account" in refused.output
