"""Forms of the offer builder (staff) and of the investor's offer page."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .models import Offer, OfferSite
from .services.offers import LINK_DAYS_MAX, RESPONSE_COMMENT_MAX_LENGTH


class OfferForm(forms.Form):
    """Title, language, introduction, and a note per offered site (`note_<id>`)."""

    title = forms.CharField(label=_("Title"), max_length=200, required=False)
    language = forms.ChoiceField(label=_("Language of the offer"), choices=settings.LANGUAGES)
    introduction = forms.CharField(
        label=_("Introduction"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=5000,
    )

    def __init__(self, *args, offer: Offer, **kwargs) -> None:
        kwargs.setdefault(
            "initial",
            {"title": offer.title, "language": offer.language, "introduction": offer.introduction},
        )
        super().__init__(*args, **kwargs)
        self.items = list(offer.items.select_related("site__municipality").order_by("position"))
        for item in self.items:
            self.fields[f"note_{item.pk}"] = forms.CharField(
                label=_("Note on “%(title)s”") % {"title": item.site.title},
                required=False,
                initial=item.note,
                max_length=2000,
                widget=forms.Textarea(attrs={"rows": 2}),
            )

    def note_field(self, item: OfferSite) -> forms.BoundField:
        return self[f"note_{item.pk}"]

    def item_notes(self) -> list[tuple[int, str]]:
        return [(item.pk, self.cleaned_data.get(f"note_{item.pk}", "")) for item in self.items]


class OfferSiteAddForm(forms.Form):
    site = forms.IntegerField(label=_("Site number"), min_value=1)


class SiteSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Add sites from a search"),
        max_length=4000,
        help_text=_(
            "Paste the address of a search on the map, or its query, or type a site number "
            "or part of a title."
        ),
    )


class OfferLinkForm(forms.Form):
    recipient_email = forms.EmailField(label=_("Send to"), required=False)
    days = forms.IntegerField(
        label=_("Valid for (days)"),
        min_value=1,
        max_value=LINK_DAYS_MAX,
        initial=settings.OFFER_LINK_DAYS,
    )
    send = forms.BooleanField(label=_("E-mail the link now"), required=False, initial=True)

    def clean(self) -> dict:
        data = super().clean() or {}
        if data.get("send") and not data.get("recipient_email"):
            self.add_error("recipient_email", _("An e-mail address is needed to send it."))
        return data


class OfferResponseForm(forms.Form):
    """The investor's answer on one site."""

    response = forms.ChoiceField(
        label=_("Your response"),
        choices=[
            (OfferSite.Response.INTERESTED, _("Interested")),
            (OfferSite.Response.NOT_FOR_US, _("Not for us")),
        ],
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Comment (optional)"),
        required=False,
        max_length=RESPONSE_COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
