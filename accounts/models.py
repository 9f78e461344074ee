from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A person using sitefinder: an investor, a municipal partner or agency staff."""

    class Role(models.TextChoices):
        INVESTOR = "investor", _("Investor")
        PARTNER = "partner", _("Municipal partner")
        STAFF = "staff", _("Agency staff")

    class Language(models.TextChoices):
        # Each language under its own name (as settings.LANGUAGES): whoever picks it reads it.
        GERMAN = "de", "Deutsch"
        ENGLISH = "en", "English"
        DUTCH = "nl", "Nederlands"
        POLISH = "pl", "Polski"
        TURKISH = "tr", "Türkçe"
        CHINESE = "zh-hans", "简体中文"

    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.INVESTOR)
    language = models.CharField(
        _("preferred language"),
        max_length=7,
        choices=Language.choices,
        default=Language.GERMAN,
        help_text=_("Language of the pages after login and of the e-mails sitefinder sends."),
    )
    company = models.CharField(_("company"), max_length=200, blank=True)
    privacy_accepted_at = models.DateTimeField(
        _("privacy notice accepted at"), null=True, blank=True
    )
    organisation = models.ForeignKey(
        "properties.PartnerOrganisation",
        verbose_name=_("partner organisation"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(role="partner") | models.Q(organisation__isnull=False),
                name="partner_has_organisation",
                violation_error_message=_("A municipal partner must belong to an organisation."),
            )
        ]

    @property
    def is_agency_staff(self) -> bool:
        return self.is_superuser or self.role == self.Role.STAFF

    @property
    def is_partner(self) -> bool:
        return self.role == self.Role.PARTNER


class DigestLog(models.Model):
    """One freshness digest e-mailed to a partner organisation
    (properties.services.freshness): lets the weekly command skip organisations mailed
    recently, so running it again sends nothing twice."""

    organisation = models.ForeignKey(
        "properties.PartnerOrganisation",
        verbose_name=_("partner organisation"),
        on_delete=models.CASCADE,
        related_name="digest_logs",
    )
    sent_at = models.DateTimeField(_("sent at"))
    stale_count = models.PositiveIntegerField(_("stale sites"), default=0)
    hidden_count = models.PositiveIntegerField(_("hidden sites"), default=0)

    class Meta:
        verbose_name = _("freshness digest")
        verbose_name_plural = _("freshness digests")
        ordering = ["-sent_at"]
        indexes = [models.Index(fields=["organisation", "sent_at"], name="digestlog_org_sent_idx")]

    def __str__(self) -> str:
        return f"{self.organisation_id} · {self.sent_at:%Y-%m-%d %H:%M}"


class ThrottleEvent(models.Model):
    """One throttled action (e.g. a password-reset e-mail requested) under a keyed hash of
    what it is counted by (the requested address, the client address); see
    accounts.throttling. Rows older than the throttle's window are deleted as they expire."""

    scope = models.CharField(max_length=32)
    key = models.CharField(max_length=64)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["scope", "key", "created_at"])]

    def __str__(self) -> str:
        return f"{self.scope} {self.created_at:%Y-%m-%d %H:%M}"
