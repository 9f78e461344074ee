"""The built-in scheduler: due times, exactly-once claims, outcomes, the status page."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.management import get_commands
from django.urls import reverse

from ops import scheduler
from ops.models import JobRun, ScheduledJob
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

CALLS: list[str] = []


@pytest.fixture
def jobs(monkeypatch):
    """A registry of two test jobs instead of the project's."""
    registry: dict[str, scheduler.Job] = {}
    monkeypatch.setattr(scheduler, "JOBS", registry)
    monkeypatch.setattr(scheduler, "registered_jobs", lambda: registry)
    CALLS.clear()

    def boom() -> None:
        CALLS.append("boom")
        raise RuntimeError("the mail server said no")

    scheduler.job("quarterly", "*/15 * * * *", "every quarter hour", run=lambda: CALLS.append("q"))
    scheduler.job("failing", "0 * * * *", "hourly, failing", run=boom)
    return registry


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_a_new_job_waits_for_its_first_due_time(jobs):
    assert scheduler.scheduler_tick(now=at("2026-03-02 10:07")) == []
    assert CALLS == []
    state = ScheduledJob.objects.get(name="quarterly")
    assert state.next_run_at == at("2026-03-02 10:15")
    assert ScheduledJob.objects.get(name="failing").next_run_at == at("2026-03-02 11:00")


def test_a_due_job_runs_once_and_its_outcome_is_recorded(jobs):
    scheduler.scheduler_tick(now=at("2026-03-02 10:07"))
    runs = scheduler.scheduler_tick(now=at("2026-03-02 10:15:20"))
    assert [run.job for run in runs] == ["quarterly"]
    assert CALLS == ["q"]
    run = JobRun.objects.get(job="quarterly")
    assert run.due_at == at("2026-03-02 10:15")
    assert run.status == JobRun.Status.SUCCEEDED
    assert run.started_at and run.finished_at
    assert ScheduledJob.objects.get(name="quarterly").next_run_at == at("2026-03-02 10:30")
    # The same moment again (a second app machine's scheduler): nothing runs twice.
    assert scheduler.scheduler_tick(now=at("2026-03-02 10:15:40")) == []
    assert CALLS == ["q"]


def test_a_due_time_read_by_two_schedulers_is_claimed_once(jobs):
    scheduler.scheduler_tick(now=at("2026-03-02 10:07"))
    due = ScheduledJob.objects.get(name="quarterly").next_run_at
    now = at("2026-03-02 10:15:01")
    # Both read the same due time; the second's compare-and-swap finds it moved on.
    first = scheduler.job_claim(jobs["quarterly"], due_at=due, now=now)
    second = scheduler.job_claim(jobs["quarterly"], due_at=due, now=now)
    assert first is not None and second is None
    assert JobRun.objects.filter(job="quarterly").count() == 1
    assert CALLS == ["q"]


def test_missed_due_times_run_once_on_return(jobs):
    scheduler.scheduler_tick(now=at("2026-03-02 10:07"))
    # Nothing ran for three hours (a deploy, an outage): one catch-up run, not twelve.
    scheduler.scheduler_tick(now=at("2026-03-02 13:20"))
    assert CALLS.count("q") == 1
    assert ScheduledJob.objects.get(name="quarterly").next_run_at == at("2026-03-02 13:30")


def test_a_failing_job_records_its_error_and_runs_again_next_time(jobs):
    scheduler.scheduler_tick(now=at("2026-03-02 10:07"))
    scheduler.scheduler_tick(now=at("2026-03-02 11:00:05"))
    run = JobRun.objects.get(job="failing")
    assert run.status == JobRun.Status.FAILED
    assert "the mail server said no" in run.error
    scheduler.scheduler_tick(now=at("2026-03-02 12:00:05"))
    assert CALLS.count("boom") == 2


def test_a_changed_schedule_takes_effect(jobs, monkeypatch):
    scheduler.scheduler_tick(now=at("2026-03-02 10:07"))
    jobs["quarterly"] = scheduler.Job("quarterly", "0 6 * * *", "daily", lambda: None)
    scheduler.scheduler_tick(now=at("2026-03-02 10:08"))
    state = ScheduledJob.objects.get(name="quarterly")
    assert state.cron == "0 6 * * *"
    # 06:00 in Berlin (CET, UTC+1) the next morning.
    assert state.next_run_at == at("2026-03-03 05:00")


def test_schedules_follow_berlin_time_across_daylight_saving():
    daily = scheduler.Job("d", "30 3 * * *", "", lambda: None)
    assert daily.next_due(at("2026-01-10 12:00")) == at("2026-01-11 02:30")  # CET
    assert daily.next_due(at("2026-07-10 12:00")) == at("2026-07-11 01:30")  # CEST


def test_a_bad_cron_expression_is_refused_at_registration(jobs):
    with pytest.raises(Exception, match="(?i)minute|range|field|expression"):
        scheduler.job("bad", "61 * * * *", "", run=lambda: None)


def test_the_project_jobs_are_registered_as_commands_that_exist():
    registered = scheduler.registered_jobs()
    expected = {
        "send_search_alerts": "*/15 * * * *",
        "refresh_match_counts": "7 * * * *",
        "anonymise_inquiries": "30 3 * * *",
        "send_freshness_digest": "0 7 * * 1",
    }
    assert {name: registered[name].cron for name in expected} == expected
    assert set(expected) <= set(get_commands())


def test_staff_see_last_run_next_run_and_last_error(jobs, client):
    scheduler.scheduler_tick(now=at("2026-03-02 10:07"))
    scheduler.scheduler_tick(now=at("2026-03-02 11:00:05"))
    client.force_login(UserFactory(role="staff"))
    response = client.get(reverse("staff_jobs"))
    assert response.status_code == 200
    text = response.content.decode()
    assert "every quarter hour" in text and "hourly, failing" in text
    assert "the mail server said no" in text
    assert "Failed" in text or "failed" in text
    assert "*/15 * * * *" in text
