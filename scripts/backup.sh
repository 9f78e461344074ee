#!/usr/bin/env bash
# A backup of sitefinder: a consistent dump of the database (pg_dump -Fc: one snapshot,
# taken while the app keeps running) and a tarball of the media files (photos, documents,
# exposés), in one timestamped folder with SHA-256 checksums; older backups beyond the
# retention count are deleted.
#
#   scripts/backup.sh [--dir DIR] [--keep N]
#
# DIR: SITEFINDER_BACKUP_DIR, default var/backups; N: SITEFINDER_BACKUP_KEEP, default 14.
# The database is DATABASE_URL, else the private cluster (SITEFINDER_PG_PORT); the media
# folder is the app's MEDIA_ROOT. Restore with scripts/restore.sh <folder>.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BACKUP_DIR="${SITEFINDER_BACKUP_DIR:-$REPO_ROOT/var/backups}"
KEEP="${SITEFINDER_BACKUP_KEEP:-14}"
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) BACKUP_DIR="$2"; shift 2 ;;
    --keep) KEEP="$2"; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
[[ "$KEEP" =~ ^[1-9][0-9]*$ ]] || die "--keep must be a whole number of at least 1"

# libpq does not know the postgis:// scheme Django's DATABASE_URL uses.
DB_URL="${DATABASE_URL:-postgresql://postgres@127.0.0.1:$PG_PORT/$PG_DB}"
DB_URL="${DB_URL/#postgis:/postgresql:}"
MEDIA_ROOT="${MEDIA_ROOT:-$(cd "$REPO_ROOT" && env -u PYENV_VERSION -u PYENV_DIR "$VENV/bin/python" manage.py shell --no-imports -c 'from django.conf import settings; print(settings.MEDIA_ROOT)')}"

STAMP="$(date -u +%Y%m%dT%H%M%S.%3NZ)"  # sortable; milliseconds: never two alike
FINAL="$BACKUP_DIR/sitefinder-$STAMP"
WORK="$FINAL.partial"
mkdir -p "$BACKUP_DIR"
[ -e "$FINAL" ] && die "$FINAL exists already"
rm -rf "$WORK"
trap 'rm -rf "$WORK"' EXIT  # an interrupted backup leaves nothing that looks complete
mkdir -p "$WORK"

log "dumping the database"
"$PG_BIN/pg_dump" --format=custom --compress=6 --no-owner --file="$WORK/database.dump" "$DB_URL"

# After the dump: every file the dumped rows name is already on disk.
log "packing the media files ($MEDIA_ROOT)"
if [ -d "$MEDIA_ROOT" ]; then
  tar -C "$MEDIA_ROOT" -czf "$WORK/media.tar.gz" .
else
  tar -czf "$WORK/media.tar.gz" -T /dev/null
fi

{
  echo "created_utc=$STAMP"
  echo "pg_dump=$("$PG_BIN/pg_dump" --version)"
  echo "git=$(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
} > "$WORK/INFO"
(cd "$WORK" && sha256sum database.dump media.tar.gz INFO > SHA256SUMS)

mv "$WORK" "$FINAL"
trap - EXIT
log "backup written: $FINAL ($(du -sh "$FINAL" | cut -f1))"

# Retention: the newest KEEP complete backups stay.
mapfile -t OLD < <(find "$BACKUP_DIR" -maxdepth 1 -type d -name 'sitefinder-*Z' | sort | head -n "-$KEEP")
for old in "${OLD[@]}"; do
  rm -rf "$old"
  log "removed old backup $(basename "$old")"
done
printf '%s\n' "$FINAL"
