"""The WSGI entry point: ``gunicorn authsvc.wsgi:app``, with settings from the environment."""

from authsvc import create_app

app = create_app()
