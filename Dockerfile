# Two stages: build the wheel (the migrations, templates and page scripts are package data
# in it), then install only that wheel, so the image runs exactly what `pip install` gives
# anyone, not a source tree that happens to sit beside it.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY authsvc ./authsvc
COPY mobile_bridge ./mobile_bridge
COPY webauthn_js ./webauthn_js
RUN pip install --no-cache-dir build==1.6.1 && python -m build --wheel --outdir /dist .

FROM python:3.11-slim
COPY --from=build /dist/ /tmp/dist/
RUN pip install --no-cache-dir "$(ls /tmp/dist/authsvc-*.whl)[prod]" && rm -r /tmp/dist
WORKDIR /app
ENV HOST=0.0.0.0 PORT=5000
EXPOSE 5000
# Migrate (under an advisory lock on PostgreSQL), then serve under gunicorn.
CMD ["sh", "-c", "authsvc db upgrade && exec gunicorn --bind ${HOST}:${PORT} --workers 4 --threads 4 --access-logfile - authsvc.wsgi:app"]
