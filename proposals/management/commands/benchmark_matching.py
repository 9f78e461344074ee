from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from benchmarks import matching
from properties.models import Site
from properties.services.demo import sites_generate_demo


class Command(BaseCommand):
    help = (
        "Times the matching engine (inquiry_matches) for five representative inquiries "
        "against the published sites; prints p50/p95 and writes "
        "benchmarks/results/matching.{md,json}; exits with an error when a case's p95 is "
        "over the budget. With --sites N, first makes sure N demo sites exist "
        "(regenerating the demo data if needed)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--sites", type=int, help="number of demo sites to benchmark against")
        parser.add_argument("--repeat", type=int, default=20, help="runs per case")
        parser.add_argument("--limit", type=int, default=50, help="sites per list")
        parser.add_argument(
            "--explain", action="store_true", help="add EXPLAIN ANALYZE of each case's query"
        )

    def handle(self, *args, sites=None, repeat=20, limit=50, explain=False, **options):
        if sites and Site.objects.demo().count() != sites:
            self.stdout.write(f"generating {sites:,} demo sites …")
            sites_generate_demo(count=sites, replace=True)
        if sites:
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE properties_site")
        results = matching.run(repeat=repeat, limit=limit, explain=explain)
        self.stdout.write(matching.as_markdown(results))
        self.stdout.write(f"written to {matching.write(results)}")
        over = matching.over_budget(results)
        if over:
            raise CommandError(
                f"over the budget of p95 ≤ {matching.BUDGET_MS:.0f} ms: "
                + "; ".join(f"{case.name} p95 {case.p95_ms} ms" for case in over)
            )
