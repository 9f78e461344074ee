from dataclasses import asdict

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connection

from benchmarks import runner
from properties.models import Site
from properties.services.demo import sites_generate_demo


class Command(BaseCommand):
    help = (
        "Measures tiles (uncached, cached, bare SQL), the sites API and the detail page; "
        "prints p50/p95 and writes benchmarks/results/latest.{json,md}. With --sites N, "
        "first makes sure N demo sites exist (regenerating demo data if needed)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--sites", type=int, help="number of demo sites to benchmark against")
        parser.add_argument("--repeat", type=int, default=50, help="requests per case")
        parser.add_argument(
            "--no-http",
            action="store_true",
            help="skip the HTTP cases (our server, the TiPg peer, Chromium first paint)",
        )
        parser.add_argument("--paints", type=int, default=5, help="first-paint runs in Chromium")
        parser.add_argument(
            "--no-peer", action="store_true", help="skip TiPg (it ships every site at low zoom)"
        )
        parser.add_argument(
            "--zooms",
            type=int,
            nargs="+",
            default=list(runner.ZOOMS),
            help="zooms of the tile cases (default %(default)s)",
        )
        parser.add_argument(
            "--throughput-seconds",
            type=float,
            default=10,
            help="seconds per throughput case with 20 clients on gunicorn (0 skips them)",
        )
        parser.add_argument(
            "--only",
            choices=["search"],
            help="search: only the search (API and page, first page + count) and the detail "
            "page, in this process; no tiles, exports or HTTP cases",
        )
        parser.add_argument(
            "--results",
            default="",
            help="name of the results files in benchmarks/results/ (default: latest, or "
            "search with --only search)",
        )

    def handle(
        self,
        *args,
        sites=None,
        repeat=50,
        no_http=False,
        paints=5,
        no_peer=False,
        throughput_seconds=10,
        zooms=runner.ZOOMS,
        only=None,
        results="",
        **options,
    ):
        # The benchmark is one client asking hundreds of times a minute: the anonymous API
        # throttle (read per request) would answer 429 to its API cases.
        settings.API_ANONYMOUS_RATE = ""
        # It asks the same search 50 times: measure the work, not the anonymous page cache
        # (a cached answer costs about 1 ms; the load test measures the cache's effect).
        settings.ANONYMOUS_PAGE_CACHE_SECONDS = 0
        generation = None
        if sites and Site.objects.demo().count() != sites:
            self.stdout.write(f"generating {sites:,} demo sites …")
            with runner.timed_with_database_cpu() as generation:
                sites_generate_demo(count=sites, replace=True)
            self.stdout.write(
                f"generated in {generation['seconds']:.1f} s (database CPU "
                f"{generation['database_cpu_seconds']} s, load average "
                f"{generation['load_average']})"
            )
            # Fresh statistics and visibility map, as autovacuum would leave them: the
            # search counts use index-only scans.
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE properties_site")
        name = results or ("search" if only == "search" else "latest")
        if only == "search":
            measured = runner.run_search(repeat=repeat)
            self.stdout.write(runner.as_markdown(measured))
            self.stdout.write(f"written to {runner.write(measured, name)}")
            return
        measured = runner.run(repeat=repeat, zooms=tuple(zooms))
        if generation:
            measured["generation"] = {"sites": sites, **generation}
        if not no_http:
            measured["cases"] += [
                asdict(case)
                for case in runner.run_http(
                    repeat=repeat,
                    paints=paints,
                    peer=not no_peer,
                    throughput_seconds=throughput_seconds,
                    zooms=tuple(zooms),
                )
            ]
        self.stdout.write(runner.as_markdown(measured))
        self.stdout.write(f"written to {runner.write(measured, name)}")
