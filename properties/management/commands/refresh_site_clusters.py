from django.core.management.base import BaseCommand

from properties.clusters import site_clusters_rebuild


class Command(BaseCommand):
    help = (
        "Rebuilds the precomputed low-zoom aggregates of the sites tiles if the sites changed "
        "since (or the day did); with --force, always. Safe to run at any time: only one "
        "rebuild runs at once."
    )

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="rebuild even if current")

    def handle(self, *args, force=False, **options):
        build = site_clusters_rebuild(force=force)
        if build is None:
            self.stdout.write("another process is rebuilding them; nothing done")
        else:
            self.stdout.write(
                f"aggregates current for sites version {build.sites_version} of {build.day} "
                f"(built {build.built_at:%H:%M:%S} in {build.seconds:.2f} s)"
            )
