"""Photos and documents of a site: checked by their content (not their name), photos get a
thumbnail beside them.

The thumbnail is a second file whose name is derived from the original's
(`sites/2026/11/hall.jpg` -> `sites/2026/11/hall.thumb.jpg`), so `SiteMedia` needs no
extra field; `media_thumbnail_url` finds it.
"""

from __future__ import annotations

import io
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from properties.models import Site, SiteMedia

if TYPE_CHECKING:
    from accounts.models import User

PHOTO_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
PHOTO_MAX_BYTES = 10 * 1024**2
PHOTO_MIN_WIDTH = 400
DOCUMENT_MAX_BYTES = 20 * 1024**2
THUMBNAIL_MAX_PX = 480
# A decompression bomb (a tiny file of a gigantic picture) is refused before decoding.
PHOTO_MAX_PIXELS = 60_000_000


def photo_check(upload: UploadedFile) -> str:
    """Refuses what is not a JPEG, PNG or WebP picture of at most 10 MB and at least 400 px
    width (read by Pillow, whatever the file's name says); returns Pillow's format name."""
    name = upload.name or ""
    if upload.size is not None and upload.size > PHOTO_MAX_BYTES:
        raise ValidationError(
            _("%(name)s is larger than 10 MB.") % {"name": name}, code="photo_too_large"
        )
    try:
        upload.seek(0)
        with Image.open(upload) as image:
            image_format = image.format or ""
            width, height = image.size
            if image_format in PHOTO_FORMATS and width * height <= PHOTO_MAX_PIXELS:
                image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        image_format = ""
        width = height = 0
    finally:
        upload.seek(0)
    if image_format not in PHOTO_FORMATS:
        raise ValidationError(
            _("%(name)s is not a JPEG, PNG or WebP picture.") % {"name": name},
            code="photo_type",
        )
    if width * height > PHOTO_MAX_PIXELS:
        raise ValidationError(
            _("%(name)s has too many pixels.") % {"name": name}, code="photo_too_many_pixels"
        )
    if width < PHOTO_MIN_WIDTH:
        raise ValidationError(
            _("%(name)s is %(width)s px wide; photos must be at least 400 px wide.")
            % {"name": name, "width": width},
            code="photo_too_small",
        )
    return image_format


def document_check(upload: UploadedFile) -> None:
    """Refuses what is not a PDF (by its first bytes) of at most 20 MB."""
    name = upload.name or ""
    if upload.size is not None and upload.size > DOCUMENT_MAX_BYTES:
        raise ValidationError(
            _("%(name)s is larger than 20 MB.") % {"name": name}, code="document_too_large"
        )
    upload.seek(0)
    head = upload.read(5)
    upload.seek(0)
    if head[:4] != b"%PDF":
        raise ValidationError(
            _("%(name)s is not a PDF file.") % {"name": name}, code="document_type"
        )


def media_thumbnail_name(name: str) -> str:
    """The thumbnail's file name beside the original's."""
    path = PurePosixPath(name)
    return str(path.with_name(f"{path.stem}.thumb{path.suffix}"))


def media_thumbnail_url(media: SiteMedia) -> str | None:
    """The thumbnail's URL, or None if there is none (documents, older photos)."""
    if media.kind != SiteMedia.Kind.PHOTO or not media.file.name:
        return None
    name = media_thumbnail_name(media.file.name)
    return default_storage.url(name) if default_storage.exists(name) else None


def _thumbnail_bytes(upload: UploadedFile, image_format: str) -> bytes:
    upload.seek(0)
    with Image.open(upload) as opened:
        image: Image.Image = opened
        image.thumbnail((THUMBNAIL_MAX_PX, THUMBNAIL_MAX_PX))
        if image_format == "JPEG" and image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        out = io.BytesIO()
        image.save(out, format=image_format)
    upload.seek(0)
    return out.getvalue()


@transaction.atomic
def site_media_add(
    *,
    site: Site,
    kind: str,
    upload: UploadedFile,
    acting_user: User | None,
    caption: str = "",
) -> SiteMedia:
    """Checks and stores a photo (with its thumbnail) or a PDF document of `site`."""
    stem = PurePosixPath(upload.name or "file").stem[:80] or "file"
    if kind == SiteMedia.Kind.PHOTO:
        image_format = photo_check(upload)
        # The extension follows the content, not the name the browser sent.
        upload.name = f"{stem}.{PHOTO_FORMATS[image_format]}"
    elif kind == SiteMedia.Kind.DOCUMENT:
        document_check(upload)
        upload.name = f"{stem}.pdf"
    else:
        raise ValidationError(_("Unknown kind of file."))
    position = site.media.filter(kind=kind).count()
    media = SiteMedia.objects.create(
        site=site, kind=kind, file=upload, caption=caption, position=position
    )
    if kind == SiteMedia.Kind.PHOTO:
        thumbnail_name = media_thumbnail_name(media.file.name or "")
        if default_storage.exists(thumbnail_name):  # a leftover: never a misnamed thumbnail
            default_storage.delete(thumbnail_name)
        default_storage.save(thumbnail_name, ContentFile(_thumbnail_bytes(upload, image_format)))
    return media
