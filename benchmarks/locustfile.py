"""The load of `make loadtest` (benchmarks/loadtest.py): a map session's mix of requests.

Each of the 20 users loops without pause over: tiles z10–z16 (most requests, as on a real
map), filtered API searches, site detail pages (HTML and API) and the map page. The URLs
come from a JSON file the driver writes (LOADTEST_URLS), drawn from the database's real
sites; every request is loopback only.
"""

from __future__ import annotations

import itertools
import json
import os
import random

from locust import FastHttpUser, constant, task

URLS = json.loads(open(os.environ["LOADTEST_URLS"]).read())  # noqa: SIM115
_addresses = itertools.count(1)


class MapVisitor(FastHttpUser):
    wait_time = constant(0)

    def on_start(self) -> None:
        # Each user is its own client, as seen behind one trusted proxy (the driver sets
        # SITEFINDER_TRUSTED_PROXIES=1): per-client API throttling applies per user.
        n = next(_addresses)
        self.headers = {"X-Forwarded-For": f"198.18.{n // 250}.{n % 250 + 1}"}

    def _get(self, path: str, name: str) -> None:
        with self.client.get(
            path, name=name, headers=self.headers, catch_response=True
        ) as response:
            if response.status_code in (200, 204):
                response.success()
            else:
                response.failure(f"HTTP {response.status_code}")

    @task(70)
    def tile(self) -> None:
        z, path = random.choice(URLS["tiles"])
        self._get(path, f"tile z{z}")

    @task(15)
    def search(self) -> None:
        self._get(random.choice(URLS["searches"]), "API search (filters)")

    @task(7)
    def detail_page(self) -> None:
        self._get(random.choice(URLS["details"]), "site detail page")

    @task(3)
    def detail_api(self) -> None:
        self._get(random.choice(URLS["api_details"]), "API site detail")

    @task(5)
    def map_page(self) -> None:
        self._get(random.choice(URLS["maps"]), "map page")
