# Optional container image for docker-compose.yml. The scripts in scripts/ are the primary
# way to run sitefinder (see README); this image mirrors what scripts/run.sh does.
FROM python:3.12-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=sitefinder.settings.local \
    SITEFINDER_DEBUG=0

# GeoDjango needs GDAL, GEOS and PROJ (libgdal32 pulls in GEOS and PROJ); gettext for
# translations; nodejs/npm for the Leaflet plugins pinned in package-lock.json; Pango and
# the fonts the PDFs embed (DejaVu for Latin scripts, Noto CJK for Chinese).
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        binutils libproj-dev libgdal32 gettext nodejs npm \
        libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

COPY requirements/base.txt requirements/base.txt
RUN pip install --no-cache-dir -r requirements/base.txt

COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

COPY . .

EXPOSE 8000
# The production command of scripts/run.sh: prepare (migrations, reference data, static
# files, the first staff account from SITEFINDER_ADMIN_EMAIL/PASSWORD), then gunicorn, the
# task worker and the scheduler supervised together. Demo data only with SITEFINDER_DEMO=1.
CMD ["sh", "-c", "python manage.py prepare ${SITEFINDER_DEMO:+--demo} && exec python manage.py serve --bind 0.0.0.0:8000"]
