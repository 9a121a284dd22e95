"""Images are re-encoded on upload, without their metadata.

A photograph from a phone carries EXIF: the camera, the time and often the GPS position of
whoever took it, which may put a witness or an officer at risk. Every image is decoded and
written anew from its pixels (turned upright first, as its EXIF orientation says), keeping
only what showing it needs: colour profile, transparency, frame timing. An uploader who
needs the metadata as evidence keeps it on purpose, and the file is then stored as it came,
once it has been decoded whole (so a broken image is refused either way).
"""

from __future__ import annotations

import warnings
from pathlib import Path

from flask_babel import gettext as _
from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

from incidents.errors import InputError

# Larger images are refused before their pixels are decoded: decoding one takes memory in
# proportion (a 50-megapixel photograph, about 150 MB while it is re-encoded).
MAX_PIXELS = 50_000_000
MAX_FRAMES = 500
# What is kept of an image's information: how to show it, nothing about who made it.
KEPT_INFO = ("icc_profile", "transparency", "duration", "loop", "dpi", "background")
FORMATS = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/gif": "GIF",
    "image/webp": "WEBP",
    "image/tiff": "TIFF",
}
OPTIONS: dict[str, dict[str, object]] = {
    "JPEG": {"quality": 92},
    "TIFF": {"compression": "tiff_lzw"},
    "WEBP": {"quality": 92},
}


def broken() -> InputError:
    return InputError({"file": _("The image is damaged or incomplete: it cannot be read.")})


def _opened(path: Path, media_type: str) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(path, formats=[FORMATS[media_type]])
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, Warning):
        raise broken() from None
    if image.width * image.height > MAX_PIXELS:
        image.close()
        raise InputError(
            {
                "file": _(
                    "The image has more than %(count)d million pixels; reduce it first.",
                    count=MAX_PIXELS // 1_000_000,
                )
            }
        )
    return image


def check(path: Path, media_type: str) -> None:
    """Decode the whole image (every frame), refusing a broken one; changes nothing."""
    with _opened(path, media_type) as image:
        try:
            for number, frame in enumerate(ImageSequence.Iterator(image)):
                if number >= MAX_FRAMES:
                    raise InputError({"file": _("The image has too many frames.")})
                frame.load()
        except (OSError, ValueError, SyntaxError, EOFError):
            raise broken() from None


def reencode(path: Path, media_type: str, target: Path) -> None:
    """Write the image's pixels alone to ``target``, in the image's own format."""
    with _opened(path, media_type) as image:
        try:
            frames = []
            for number, frame in enumerate(ImageSequence.Iterator(image)):
                if number >= MAX_FRAMES:
                    raise InputError({"file": _("The image has too many frames.")})
                frames.append(_clean(frame))
        except (OSError, ValueError, SyntaxError, EOFError):
            raise broken() from None
    first, rest = frames[0], frames[1:]
    name = FORMATS[media_type]
    options = dict(OPTIONS.get(name, {}))
    if rest:
        options |= {"save_all": True, "append_images": rest}
    try:
        first.save(target, format=name, **options)
    except (OSError, ValueError) as error:
        raise InputError(
            {"file": _("The image cannot be written again without its metadata.")}
        ) from error


def _clean(frame: Image.Image) -> Image.Image:
    """The frame upright, as a new image holding nothing but its pixels and how to show them."""
    frame.load()
    upright = ImageOps.exif_transpose(frame) or frame
    clean = upright.copy()
    clean.info = {key: frame.info[key] for key in KEPT_INFO if key in frame.info}
    return clean
