from django.core.management.base import BaseCommand

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

    def handle(self, *args, sites=None, repeat=50, **options):
        if sites and Site.objects.demo().count() != sites:
            self.stdout.write(f"generating {sites:,} demo sites …")
            sites_generate_demo(count=sites, replace=True)
        results = runner.run(repeat=repeat)
        self.stdout.write(runner.as_markdown(results))
        self.stdout.write(f"written to {runner.write(results)}")
