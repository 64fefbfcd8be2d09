# syntax=docker/dockerfile:1.7
# Production image: the API only. PostgreSQL and Meilisearch run as their own services
# (see docker-compose.yml); the embedded defaults of `make run` are not installed here.

FROM python:3.11-slim-bookworm AS build
COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PROJECT_ENVIRONMENT=/opt/venv
# The same path in both stages: the venv's editable install of the project points here.
WORKDIR /srv/techex
# Dependencies first, so a code change does not reinstall them.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --locked --no-default-groups --no-install-project
COPY app ./app
COPY search ./search
COPY migrations ./migrations
RUN uv sync --locked --no-default-groups

FROM python:3.11-slim-bookworm AS runtime
RUN groupadd --system techex && useradd --system --gid techex --home-dir /srv/techex techex
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 TECHEX_ENVIRONMENT=production TECHEX_HOST=0.0.0.0 PORT=8000
# matplotlib (the dashboard's charts) keeps its font cache here: the home directory is read-only.
ENV MPLCONFIGDIR=/tmp/matplotlib
WORKDIR /srv/techex
COPY --from=build /opt/venv /opt/venv
COPY --from=build /srv/techex /srv/techex
USER techex
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\", \"8000\")}/healthz', timeout=2)"
# Migrations are applied at start; Alembic takes a lock, so several replicas starting together are safe.
CMD ["sh", "-c", "techex migrate && exec techex serve"]
