import logging

from django.db import DatabaseError, connection
from django.http import JsonResponse

logger = logging.getLogger("sitefinder.health")


def healthz(request):
    """200 when the database answers a query, 503 when it does not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT postgis_lib_version()")
            (postgis,) = cursor.fetchone()
    except DatabaseError as exc:
        return JsonResponse(
            {"status": "unavailable", "database": str(exc).strip()[:200]}, status=503
        )
    return JsonResponse({"status": "ok", "database": "ok", "postgis": postgis})
