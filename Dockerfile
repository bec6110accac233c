FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY authsvc ./authsvc
COPY migrations ./migrations
COPY webauthn_js ./webauthn_js
RUN pip install --no-cache-dir -e '.[prod]'
ENV HOST=0.0.0.0 PORT=5000
EXPOSE 5000
# Migrate (under an advisory lock on PostgreSQL), then serve under gunicorn.
CMD ["sh", "-c", "authsvc db upgrade && exec gunicorn --bind ${HOST}:${PORT} --workers 4 --threads 4 --access-logfile - authsvc.wsgi:app"]
