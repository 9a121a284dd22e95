"""The application object that gunicorn and ``flask --app wsgi`` load."""

from capdb.app import create_app

app = create_app()
