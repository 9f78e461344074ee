"""Forms of staff's inquiry inbox: the list's filters and the actions on an inquiry."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import User

from .models import Inquiry
from .services.inbox import NOTE_MAX_LENGTH, allowed_statuses

# The status filter: the open ones (the default), all, or one status.
STATUS_OPEN = "open"
STATUS_ALL = "all"
# The assignee filter: me, nobody, anyone, or a person's id.
ASSIGNEE_ME = "me"
ASSIGNEE_NOBODY = "none"
ASSIGNEE_ANYONE = ""
SORT_CHOICES = [("newest", _("Newest first")), ("oldest", _("Oldest first"))]


def staff_users() -> Any:
    return User.objects.filter(Q(role=User.Role.STAFF) | Q(is_superuser=True), is_active=True)


def _person(user: User) -> str:
    return user.get_full_name() or user.get_username()


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return _person(obj)


class InboxFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False)
    assignee = forms.ChoiceField(label=_("Assigned to"), required=False)
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    sort = forms.ChoiceField(label=_("Sort"), choices=SORT_CHOICES, required=False)

    def __init__(self, *args: Any, staff: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["status"]).choices = [
            (STATUS_OPEN, _("Open (new, in progress, offer sent)")),
            (STATUS_ALL, _("All")),
            *Inquiry.Status.choices,
        ]
        cast(forms.ChoiceField, self.fields["assignee"]).choices = [
            (ASSIGNEE_ANYONE, _("Anyone")),
            (ASSIGNEE_ME, _("Me")),
            (ASSIGNEE_NOBODY, _("Nobody (unassigned)")),
            *((str(user.pk), _person(user)) for user in staff),
        ]

    def filters(self) -> dict[str, Any]:
        """The valid filters, with defaults for what is missing or invalid."""
        data = self.cleaned_data if self.is_valid() else {}
        return {
            "status": data.get("status") or STATUS_OPEN,
            "assignee": data.get("assignee") or ASSIGNEE_ANYONE,
            "overdue": bool(data.get("overdue")),
            "sort": data.get("sort") or "newest",
        }


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("New status"), choices=Inquiry.Status.choices)
    note = forms.CharField(
        label=_("Comment (optional)"),
        required=False,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.TextInput,
    )

    prefix = "status"

    def __init__(self, *args: Any, inquiry: Inquiry, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        allowed = allowed_statuses(inquiry)
        # Offered: the workflow's next steps; validated: any status, so a forbidden step
        # is refused by the service with a clear message rather than "not a choice".
        self.fields["status"].widget.choices = [
            choice for choice in Inquiry.Status.choices if choice[0] in allowed
        ]


class AssignForm(forms.Form):
    assignee = StaffChoiceField(
        label=_("Assigned to"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("Nobody"),
    )

    prefix = "assign"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = staff_users().order_by(  # type: ignore[attr-defined]
            "first_name", "last_name", "username"
        )


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("Note"),
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    prefix = "note"


class EraseForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        help_text=_("E.g. “request of the person by e-mail of 3 March”. Kept on the timeline."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    confirm = forms.BooleanField(label=_("I understand that this cannot be undone."), required=True)
