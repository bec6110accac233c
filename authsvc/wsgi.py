"""The WSGI entry point for gunicorn: ``gunicorn authsvc.wsgi:app`` (settings from the environment)."""

from authsvc import create_app

app = create_app()
