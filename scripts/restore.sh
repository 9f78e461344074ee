#!/usr/bin/env bash
# Restores a backup written by scripts/backup.sh into an EMPTY database and media folder.
#
#   scripts/restore.sh var/backups/sitefinder-20261206T031500.123Z
#
# The database is DATABASE_URL, else the private cluster's (SITEFINDER_PG_PORT); it must
# exist and hold no tables yet (create it first, e.g. `createdb -T template0 sitefinder`).
# The media go to MEDIA_ROOT, which must be empty or missing. The checksums are verified
# first; the database is restored in one transaction, so a failure leaves it empty.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[ $# -eq 1 ] || die "usage: scripts/restore.sh <backup folder>"
SOURCE="$(cd "$1" && pwd)" || die "no backup folder $1"
for f in database.dump media.tar.gz SHA256SUMS; do
  [ -f "$SOURCE/$f" ] || die "$SOURCE is not a complete backup: $f is missing"
done

DB_URL="${DATABASE_URL:-postgresql://postgres@127.0.0.1:$PG_PORT/$PG_DB}"
DB_URL="${DB_URL/#postgis:/postgresql:}"
MEDIA_ROOT="${MEDIA_ROOT:-$(cd "$REPO_ROOT" && env -u PYENV_VERSION -u PYENV_DIR "$VENV/bin/python" manage.py shell --no-imports -c 'from django.conf import settings; print(settings.MEDIA_ROOT)')}"

log "verifying checksums"
(cd "$SOURCE" && sha256sum --quiet -c SHA256SUMS) || die "the backup is damaged (checksum mismatch); nothing was restored"

TABLES="$("$PG_BIN/psql" "$DB_URL" -v ON_ERROR_STOP=1 -qAt -c \
  "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema') AND tablename <> 'spatial_ref_sys'")" \
  || die "cannot reach the target database"
[ "$TABLES" = "0" ] || die "the target database is not empty ($TABLES tables); restore into a new, empty database"
if [ -d "$MEDIA_ROOT" ] && [ -n "$(ls -A "$MEDIA_ROOT")" ]; then
  die "the media folder $MEDIA_ROOT is not empty; restore into an empty one"
fi

log "restoring the database"
"$PG_BIN/pg_restore" --no-owner --no-privileges --exit-on-error --single-transaction \
  --dbname="$DB_URL" "$SOURCE/database.dump"

log "restoring the media files into $MEDIA_ROOT"
mkdir -p "$MEDIA_ROOT"
tar -C "$MEDIA_ROOT" -xzf "$SOURCE/media.tar.gz"
log "restored $(basename "$SOURCE"); run 'manage.py migrate' if the code is newer than the backup"
