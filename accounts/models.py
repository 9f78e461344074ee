from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from geodata.models import Municipality


class PartnerOrganisation(models.Model):
    """A municipal economic-development office; its members edit its municipalities' sites."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    municipalities = models.ManyToManyField(
        Municipality,
        verbose_name=_("municipalities"),
        related_name="partner_organisations",
        # Born in properties (accounts/migrations/0006): the tables kept their names.
        db_table="properties_partnerorganisation_municipalities",
    )
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    website = models.URLField(_("website"), blank=True)

    class Meta:
        db_table = "properties_partnerorganisation"
        verbose_name = _("partner organisation")
        verbose_name_plural = _("partner organisations")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


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
        PartnerOrganisation,
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
