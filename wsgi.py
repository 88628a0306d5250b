"""WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi …`."""
from hostadmin import create_app

app = create_app()
