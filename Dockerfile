# The ecoops image: `docker build -t ecoops .`, or `docker compose up` with compose.yaml (docs/running.md).
# Front-end assets come from the npm registry at build time, Python packages from requirements-runtime.lock
# (what runs, not the test tools) with their hashes; nothing is fetched when the container runs.

FROM node:22-slim AS assets
WORKDIR /build
COPY package.json package-lock.json ./
# --ignore-scripts: swagger-ui-dist pulls in a telemetry package whose install script calls home.
RUN npm ci --no-audit --no-fund --ignore-scripts --loglevel=error \
 && mkdir -p vendor/swagger-ui \
 && cp node_modules/htmx.org/dist/htmx.min.js node_modules/chart.js/dist/chart.umd.min.js vendor/ \
 && cp node_modules/swagger-ui-dist/swagger-ui-bundle.js node_modules/swagger-ui-dist/swagger-ui.css vendor/swagger-ui/

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /build
COPY requirements-runtime.lock ./
RUN pip install --require-hashes -r requirements-runtime.lock
COPY pyproject.toml README.md LICENSE ./
COPY src ./src
COPY --from=assets /build/vendor ./src/ecoops/web/static/vendor
RUN pip install --no-deps --no-build-isolation . && rm -rf /build

# A user of its own, owning only the var dir (secret key when none is set, uploads, SQLite when no
# ECOOPS_DATABASE_URL is given).
RUN useradd --system --uid 10001 --create-home --home-dir /var/lib/ecoops ecoops
ENV ECOOPS_ENV=production ECOOPS_VAR_DIR=/var/lib/ecoops
VOLUME /var/lib/ecoops
WORKDIR /var/lib/ecoops
USER ecoops
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
CMD ["sh", "-c", "ecoops db upgrade && exec ecoops serve --host 0.0.0.0 --port 8000"]
