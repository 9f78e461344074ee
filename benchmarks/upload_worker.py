"""One upload job run in a fresh process, as `manage.py db_worker` would run it; prints its
wall time and the process's peak RSS as JSON (benchmarks/upload.py starts it)."""

import json
import os
import resource
import sys
import time


def main(job_id: int, revision: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sitefinder.settings.local")
    import django

    django.setup()
    from properties.models import UploadJob
    from properties.services.upload_jobs import upload_job_run

    started = time.perf_counter()
    upload_job_run.call(job_id=job_id, revision=revision)
    seconds = time.perf_counter() - started
    job = UploadJob.objects.get(pk=job_id)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {"seconds": seconds, "peak_mb": peak_mb, "status": job.status, "error": job.error}
        )
    )


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
