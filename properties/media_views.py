"""Photos and documents of sites, served only to users who may see the site.

A draft's files must stay as private as the draft: `/media/sites/...` is answered here (in
every environment, not by the static file helper), by looking the file up as a `SiteMedia`
among the sites `Site.objects.visible_to(user)`; anything else is a 404, so the name of an
invisible site's file is not confirmed either."""

from __future__ import annotations

import posixpath

from django.http import FileResponse, Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_safe
from django.views.static import serve

from accounts.models import User

from .models import Site, SiteMedia

# SiteMedia.file's upload_to starts with this folder (below MEDIA_ROOT / MEDIA_URL).
SITE_MEDIA_FOLDER = "sites/"
# Files the server keeps for itself (partner uploads between dry run and commit, offer PDFs,
# which proposals/ serves to staff and link holders only): never served here.
PRIVATE_FOLDERS = (SITE_MEDIA_FOLDER, "uploads/", "offers/")
# A photo's thumbnail lies beside it as "<stem>.thumb<ext>" (properties.services.media).
_THUMB = ".thumb"


@require_safe
def site_media_file(request: HttpRequest, name: str) -> FileResponse:
    """The file `sites/<name>` if it belongs to a site the user may see, else 404."""
    user = request.user if isinstance(request.user, User) else None
    stored_name = SITE_MEDIA_FOLDER + name
    if posixpath.normpath(stored_name) != stored_name:  # "..", "//", "./": never stored
        raise Http404
    stem, extension = posixpath.splitext(stored_name)
    # A thumbnail is as visible as its photo: look up the original, serve the thumbnail.
    original = stem[: -len(_THUMB)] + extension if stem.endswith(_THUMB) else stored_name
    media = (
        SiteMedia.objects.filter(file=original, site__in=Site.objects.visible_to(user))
        .order_by("pk")
        .first()
    )
    if media is None:
        raise Http404
    try:
        handle = media.file.storage.open(stored_name, "rb")
    except FileNotFoundError as missing:
        raise Http404 from missing
    response = FileResponse(
        handle,
        filename=posixpath.basename(stored_name),
    )
    # Whether a file may be seen depends on the user: no shared cache may keep it.
    patch_cache_control(response, private=True, max_age=3600)
    return response


def other_media_file(request: HttpRequest, path: str, document_root: str) -> HttpResponseBase:
    """Django's development file server for every other file below MEDIA_URL (DEBUG only,
    through `static()`), refusing the site files: "/media/./sites/..." or "/media//sites/..."
    miss the checked route above but name the same file once normalised."""
    if posixpath.normpath("/" + path).lstrip("/").startswith(PRIVATE_FOLDERS):
        raise Http404
    return serve(request, path, document_root=document_root)
