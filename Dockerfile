# OpenTrace server image: slim, runs as a non-root user, answers /healthz.
#   docker build -t opentrace .
#   docker run -p 8080:8080 -v opentrace-data:/data opentrace
# Configuration is the OPENTRACE_* environment (see .env.example); the default database is a
# SQLite file on the /data volume. compose.yaml runs it with PostgreSQL.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY ingest ./ingest
COPY storage ./storage
COPY alerts ./alerts
COPY manifest ./manifest
COPY opentrace ./opentrace
RUN pip install . && rm -rf /app/build

RUN useradd --system --uid 10001 --home-dir /data --create-home opentrace
USER opentrace
WORKDIR /data

# Listen on every interface inside the container; publish the port to choose who reaches it.
ENV OPENTRACE_HOST=0.0.0.0 \
    OPENTRACE_PORT=8080 \
    OPENTRACE_DATABASE_URL=sqlite:////data/opentrace.db
VOLUME ["/data"]
EXPOSE 8080

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('OPENTRACE_PORT', '8080')}/healthz\", timeout=4)"]

CMD ["opentrace", "serve"]
