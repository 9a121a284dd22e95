"""Wiring authentication into the application: who is asking, and login by default."""

from __future__ import annotations

import redis
from flask import Flask, Request, g
from flask_login import LoginManager

from auth import sessions, tokens
from auth.access import require_login
from auth.models import User
from capdb import db


def load_user(request: Request) -> User | None:
    """The user of a bearer token or of this browser's server-side session."""
    authorization = request.authorization
    if authorization is not None:
        if authorization.type != "bearer" or not authorization.token:
            return None
        return tokens.user_for(db.session(), authorization.token)
    if g.get("sessions_unreachable"):
        return None  # the error page that says so is shown as to a visitor
    try:
        return sessions.current(db.session())
    except redis.RedisError:
        g.sessions_unreachable = True
        raise  # answered 503 (capdb.errors)


def remember_actor(user: User | None) -> User | None:
    # Changes flushed during the request are attributed to its user (record history).
    if user is not None:
        db.session().info["actor_id"] = user.id
    return user


def init_app(app: Flask) -> None:
    manager = LoginManager(app)
    manager.request_loader(lambda request: remember_actor(load_user(request)))
    # Flask-Login's own "remember me" and user-id cookie are not used: sessions live in
    # the database. Its session protection would only duplicate what they do.
    manager.session_protection = None
    app.before_request(require_login)
