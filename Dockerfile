# Optional container image for docker-compose.yml. The scripts in scripts/ are the primary
# way to run sitefinder (see README); this image mirrors what scripts/run.sh does.
FROM python:3.12-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=sitefinder.settings.local

# GeoDjango needs GDAL, GEOS and PROJ (libgdal32 pulls in GEOS and PROJ); gettext for
# translations; nodejs/npm for the Leaflet plugins pinned in package-lock.json.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        binutils libproj-dev libgdal32 gettext nodejs npm \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

COPY requirements/base.txt requirements/base.txt
RUN pip install --no-cache-dir -r requirements/base.txt

COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

COPY . .

EXPOSE 8000
CMD ["sh", "-c", "python manage.py migrate --noinput && python manage.py load_reference_data && python manage.py generate_demo_sites --if-empty && python manage.py collectstatic --noinput -v0 && exec python manage.py runserver 0.0.0.0:8000"]
