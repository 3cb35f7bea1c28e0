# syntax=docker/dockerfile:1
# The joint IT self-service bot. Build: docker build -t itbot .
# Run:   docker run -p 8080:8080 -e ITBOT_DATABASE_URL=postgresql://... -e ITBOT_SECRET_KEY=... itbot
FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY intents ./intents
COPY knowledge ./knowledge
COPY integrations ./integrations
RUN python -m venv /opt/itbot \
 && /opt/itbot/bin/pip install --upgrade pip \
 && /opt/itbot/bin/pip install .

FROM python:3.11-slim-bookworm
ENV PATH=/opt/itbot/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    ITBOT_HOST=0.0.0.0 \
    ITBOT_PORT=8080 \
    ITBOT_CACHE_DIR=/var/lib/itbot/cache \
    ITBOT_DATABASE_URL=sqlite+aiosqlite:////var/lib/itbot/itbot.db
RUN useradd --system --uid 10001 --home-dir /var/lib/itbot --create-home itbot
COPY --from=build /opt/itbot /opt/itbot
USER itbot
WORKDIR /var/lib/itbot
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, sys, urllib.request; port = os.environ.get('ITBOT_PORT', '8080'); sys.exit(0 if urllib.request.urlopen(f'http://127.0.0.1:{port}/healthz', timeout=4).status == 200 else 1)"]
ENTRYPOINT ["itbot"]
CMD ["serve"]
