from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User

from .querysets import SavedSearchQuerySet, ShortlistEntryQuerySet

# At most this many sites on one shortlist: a comparison of more is no comparison.
SHORTLIST_MAX_SITES = 50


class ShortlistEntry(models.Model):
    """A site on a registered user's shortlist; visitors keep theirs in the session."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="shortlist_entries",
    )
    site = models.ForeignKey(
        "properties.Site",
        verbose_name=_("site"),
        on_delete=models.CASCADE,
        related_name="shortlist_entries",
    )
    added_at = models.DateTimeField(_("added at"), default=timezone.now)

    objects = ShortlistEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("shortlist entry")
        verbose_name_plural = _("shortlist entries")
        ordering = ["added_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "site"], name="shortlist_entry_unique_site")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.site_id}"


class SavedSearch(models.Model):
    """A search an investor keeps: new or changed sites matching it are e-mailed to them,
    at once or gathered daily or weekly."""

    class Frequency(models.TextChoices):
        INSTANT = "instant", _("Instantly")
        DAILY = "daily", _("Daily")
        WEEKLY = "weekly", _("Weekly")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="saved_searches",
    )
    name = models.CharField(_("name"), max_length=120)
    query = models.TextField(
        _("query"),
        blank=True,
        help_text=_("The search's URL query string, e.g. kind=plot&area_min=10000."),
    )
    language = models.CharField(
        _("language of the alerts"), max_length=7, choices=User.Language.choices
    )
    created_at = models.DateTimeField(_("saved at"), default=timezone.now)
    last_checked_at = models.DateTimeField(
        _("last checked at"),
        default=timezone.now,
        help_text=_("Sites changed after this are checked for alerts next."),
    )
    alerts_since = models.DateTimeField(
        _("alerts since"),
        default=timezone.now,
        help_text=_("Only sites changed after this are alerted: when saved, or alerts resumed."),
    )
    is_active = models.BooleanField(_("alerts on"), default=True)
    frequency = models.CharField(
        _("frequency of the alerts"),
        max_length=8,
        choices=Frequency.choices,
        default=Frequency.INSTANT,
        db_default=Frequency.INSTANT,
    )
    last_emailed_at = models.DateTimeField(
        _("last e-mailed at"),
        null=True,
        blank=True,
        help_text=_("A daily or weekly search is e-mailed again a day or a week after this."),
    )

    objects = SavedSearchQuerySet.as_manager()

    class Meta:
        verbose_name = _("saved search")
        verbose_name_plural = _("saved searches")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["is_active", "id"], name="saved_search_active_idx")]

    def __str__(self) -> str:
        return self.name


class SearchAlert(models.Model):
    """A site that a saved search alerted (or is about to alert) its owner to, in one state:
    one row per saved search, site and version of the site (its `updated_at`), so the same
    state is never alerted twice and a later change is alerted again."""

    saved_search = models.ForeignKey(
        SavedSearch,
        verbose_name=_("saved search"),
        on_delete=models.CASCADE,
        related_name="alerts",
    )
    site = models.ForeignKey(
        "properties.Site",
        verbose_name=_("site"),
        on_delete=models.CASCADE,
        related_name="search_alerts",
    )
    site_version = models.DateTimeField(
        _("site version"), help_text=_("When the site was last changed, as alerted.")
    )
    created_at = models.DateTimeField(_("found at"), default=timezone.now)
    sent_at = models.DateTimeField(
        _("e-mailed at"), null=True, blank=True, help_text=_("Empty: not e-mailed yet.")
    )

    class Meta:
        verbose_name = _("search alert")
        verbose_name_plural = _("search alerts")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["saved_search", "site", "site_version"],
                name="search_alert_unique_site_version",
            )
        ]
        indexes = [
            models.Index(
                fields=["saved_search"],
                condition=models.Q(sent_at__isnull=True),
                name="search_alert_unsent_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.saved_search_id} → {self.site_id} @ {self.site_version:%Y-%m-%d %H:%M}"


class EmptySearch(models.Model):
    """A search that found no published site: unmet demand, recorded anonymously (the day
    and the filters only; no user, session, address or time of day)."""

    class Channel(models.TextChoices):
        PAGE = "page", _("Search page")
        API = "api", _("API")

    searched_on = models.DateField(_("searched on"), default=timezone.localdate, db_index=True)
    channel = models.CharField(_("channel"), max_length=4, choices=Channel.choices)
    query = models.TextField(
        _("filters"), help_text=_("The search's filters as a normalised query string.")
    )

    class Meta:
        verbose_name = _("search without results")
        verbose_name_plural = _("searches without results")
        ordering = ["-searched_on", "-id"]

    def __str__(self) -> str:
        return f"{self.searched_on} · {self.query}"
