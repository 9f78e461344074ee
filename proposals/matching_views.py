"""Staff's page of an inquiry's matches: ranked sites with a verdict per criterion, the
excluded ones with the reason, and the must-have criteria to change."""

from __future__ import annotations

import time

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.permissions import gated_user, staff_required

from .matching import inquiry_matches, inquiry_wanted
from .models import Criterion, Inquiry
from .services.matching import inquiry_hard_criteria_set, inquiry_match_count_store

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


class HardCriteriaForm(forms.Form):
    hard_criteria = forms.MultipleChoiceField(
        label=_("Must-have criteria"),
        choices=Criterion.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("A site failing one of these is listed separately, with the reason."),
    )


def _limit(request: HttpRequest) -> int:
    try:
        return min(max(int(request.GET.get("limit", DEFAULT_LIMIT)), 1), MAX_LIMIT)
    except ValueError:
        return DEFAULT_LIMIT


@staff_required
def inquiry_matches_page(request: HttpRequest, pk: int) -> HttpResponse:
    user = gated_user(request)
    inquiry = get_object_or_404(Inquiry, pk=pk)
    status = 200
    if request.method == "POST":
        form = HardCriteriaForm(request.POST)
        if form.is_valid():
            try:
                inquiry_hard_criteria_set(
                    inquiry=inquiry,
                    criteria=form.cleaned_data["hard_criteria"],
                    acting_user=user,
                )
            except ValidationError as exc:
                form.add_error("hard_criteria", exc.messages)
            else:
                return redirect("inquiry_matches", pk=inquiry.pk)
        status = 400
    else:
        form = HardCriteriaForm(initial={"hard_criteria": inquiry.hard_criteria})

    limit = _limit(request)
    started = time.perf_counter()
    result = inquiry_matches(inquiry, limit=limit)
    elapsed_ms = (time.perf_counter() - started) * 1000
    inquiry_match_count_store(inquiry=inquiry, count=result.ranked_total)
    wanted = inquiry_wanted(inquiry)
    stated = {criterion for criterion, *_rest in wanted}
    return render(
        request,
        "proposals/matches.html",
        {
            "inquiry": inquiry,
            "result": result,
            "sections": [
                {
                    "key": "ranked",
                    "heading": _("Ranked sites"),
                    "matches": result.ranked,
                    "total": result.ranked_total,
                    "empty": _("No published site meets every must-have criterion."),
                },
                {
                    "key": "excluded",
                    "heading": _("Excluded: fails a must-have"),
                    "matches": result.excluded,
                    "total": result.excluded_total,
                    "empty": _("No site fails a must-have criterion."),
                },
            ],
            "wanted": wanted,
            "stated": stated,
            "form": form,
            "elapsed_ms": elapsed_ms,
            "limit": limit,
            "more_limit": min(limit * 2, MAX_LIMIT) if limit < MAX_LIMIT else None,
            "offer_create_url": reverse("offer_create", args=[inquiry.pk]),
        },
        status=status,
    )
