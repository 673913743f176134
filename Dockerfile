# syntax=docker/dockerfile:1.7
# One image for every Tangible service and role:
#   docker run IMAGE python -m tangible_ingest api          (or scheduler | migrate | ...)
#   docker run IMAGE python -m tangible_entitlements consumer
# Build: `make images` (docker build -t ghcr.io/tangible/tangible:<tag> .)
#
# Stage 1 resolves the locked dependencies with uv (cached layer, rebuilt only when a
# pyproject.toml or uv.lock changes), then installs the workspace sources. The services' Alembic
# migrations live beside their packages (services/<name>/migrations), so the workspace keeps its
# layout under /app and the members are installed editable into /app/.venv.
# Stage 2 is a slim Python with that tree, run as an unprivileged user, without uv or compilers.

ARG PYTHON_VERSION=3.11
ARG UV_VERSION=0.13

FROM ghcr.io/astral-sh/uv:${UV_VERSION} AS uv

# Only the manifests: the dependency layer below stays cached across source changes.
FROM python:${PYTHON_VERSION}-slim-bookworm AS manifests
WORKDIR /src
COPY . .
RUN mkdir /out \
 && find . -name pyproject.toml -not -path './.venv/*' -exec cp --parents {} /out/ \; \
 && cp uv.lock /out/

FROM python:${PYTHON_VERSION}-slim-bookworm AS build
COPY --from=uv /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3 \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /app
ARG PACKAGES="--package tangible-usage-ingest --package tangible-entitlements --package tangible-rewards --package tangible-notifications"
COPY --from=manifests /out/ ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-workspace ${PACKAGES}
COPY libs/ libs/
COPY services/ services/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev ${PACKAGES} \
 && python -m compileall -q libs services \
 && /app/.venv/bin/python -c "import tangible_ingest, tangible_entitlements, tangible_rewards, tangible_notifications"

FROM python:${PYTHON_VERSION}-slim-bookworm AS runtime
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="tangible" \
      org.opencontainers.image.description="Tangible services: usage-ingest, entitlements, rewards, notifications" \
      org.opencontainers.image.source="https://github.com/tangible/tangible" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}"
RUN groupadd --system --gid 10001 tangible \
 && useradd --system --uid 10001 --gid 10001 --home-dir /nonexistent --no-create-home \
      --shell /usr/sbin/nologin tangible
WORKDIR /app
# Owned by root and not writable by the service user; the chart also mounts the root read-only.
COPY --from=build /app /app
ENV PATH=/app/.venv/bin:${PATH} \
    VIRTUAL_ENV=/app/.venv \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp
USER 10001:10001
EXPOSE 8001 8002 8003 8004
CMD ["python", "-m", "tangible_ingest", "api"]
