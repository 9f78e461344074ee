from django.core.management.base import BaseCommand

from benchmarks import upload


class Command(BaseCommand):
    help = (
        "Times the partner bulk upload on a generated GeoJSON of N squares inside one "
        "municipality (plan, commit, unchanged re-upload, 10 %% changed); rolls everything "
        "back and writes benchmarks/results/upload.md."
    )

    def add_arguments(self, parser):
        parser.add_argument("--features", type=int, default=10_000)
        parser.add_argument(
            "--ags", default="05113000", help="municipality (AGS); Essen by default"
        )

    def handle(self, *args, features=10_000, ags="05113000", **options):
        results = upload.run(count=features, ags=ags)
        markdown = upload.as_markdown(results)
        self.stdout.write(markdown)
        self.stdout.write(f"written to {upload.write(results)}")
