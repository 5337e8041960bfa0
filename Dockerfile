# One GovBot replica: the app and its Rasa server (`govbot serve`), Rasa on the container's loopback only.
# Built like `make setup` (both virtualenvs, the offline embedding model, the dashboard's chart library), with
# the production Rasa model trained at build time. Runtime state (logs, caches, secrets) lives in /data.
FROM python:3.11-slim-bookworm

RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends build-essential make npm \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/govbot
COPY . .
RUN make .venv/.installed .venv-rasa/.installed var/models/e5-small/modules.json \
       node_modules/chart.js/dist/chart.umd.min.js \
    && mv var/models /opt/models && rm -rf var \
    && GOVBOT_EMBEDDING_MODEL=/opt/models/e5-small GOVBOT_VAR_DIR=/tmp/build-var .venv/bin/govbot train \
    && rm -rf /tmp/build-var

ENV GOVBOT_EMBEDDING_MODEL=/opt/models/e5-small GOVBOT_VAR_DIR=/data GOVBOT_HOST=0.0.0.0 GOVBOT_PORT=8000 \
    GOVBOT_LOG_FORMAT=json FORWARDED_ALLOW_IPS=* PYTHONUNBUFFERED=1
RUN useradd --system --home /data govbot && mkdir -p /data /opt/govbot/.rasa \
    && chown -R govbot /data /opt/govbot/.rasa /opt/govbot/bot /opt/govbot/models  # `serve` re-checks the model
USER govbot
VOLUME /data
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=300s \
    CMD .venv/bin/python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=2)"
CMD [".venv/bin/govbot", "serve"]
