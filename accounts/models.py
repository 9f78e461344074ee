from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A person using sitefinder: an investor, a municipal partner or agency staff."""

    class Role(models.TextChoices):
        INVESTOR = "investor", _("Investor")
        PARTNER = "partner", _("Municipal partner")
        STAFF = "staff", _("Agency staff")

    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.INVESTOR)
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
