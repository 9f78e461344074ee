from django.core.management.base import BaseCommand, CommandError

from benchmarks import upload


class Command(BaseCommand):
    help = (
        "Times the partner bulk upload as background jobs (dry run and commit, each in a "
        "fresh worker process: p50 wall time and peak RSS) on generated GeoJSON files of "
        "10,000 and 50,000 squares, with at least 100,000 other sites in the database (demo "
        "sites are generated to make up the number); writes benchmarks/results/upload.md "
        "and upload.json."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--rows", type=int, nargs="+", default=[10_000, 50_000], help="sizes of the files"
        )
        parser.add_argument("--repeat", type=int, default=3, help="runs per size and step")
        parser.add_argument(
            "--other-sites", type=int, default=100_000, help="sites in the database besides"
        )
        parser.add_argument(
            "--ags", default="05113000", help="municipality (AGS); Essen by default"
        )
        parser.add_argument(
            "--results-name", default="upload", help="benchmarks/results/<name>.md and .json"
        )

    def handle(self, *args, rows, repeat, other_sites, ags, results_name, **options):
        if repeat < 1 or any(size < 1 for size in rows):
            raise CommandError("--rows and --repeat must be at least 1")
        results = upload.run(sizes=tuple(rows), repeat=repeat, other_sites=other_sites, ags=ags)
        self.stdout.write(upload.as_markdown(results))
        self.stdout.write(f"written to {upload.write(results, name=results_name)}")
