"""User images in one sub-folder per class (`folder:PATH`), decoded with Pillow.

Classes are the sub-folder names, sorted. Grayscale images stay one channel; if any image has
colour, all become RGB. Images must share one size unless `image_size` resizes them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from zoo.data.errors import DataFormatError
from zoo.data.packages import require_package
from zoo.data.splits import DEFAULT_TEST_FRACTION, split_three_ways
from zoo.errors import ConfigError, DatasetUnavailableError
from zoo.spec import Dataset, DataSpec

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")
GRAYSCALE_MODES = ("1", "L", "LA", "I", "I;16", "F")


def load_image_folder(
    path: str,
    *,
    seed: int,
    validation_fraction: float,
    image_size: int | tuple[int, int] | None = None,
    test_fraction: float = DEFAULT_TEST_FRACTION,
) -> Dataset:
    """Loads every PNG/JPEG/BMP under PATH/<class>/ as float32 (H, W, C) pixels with values 0..255.

    Args:
        path: the folder holding one sub-folder per class.
        image_size: an int or (height, width) to resize every image to; without it all images
            must already share one size.
        test_fraction: the share held out (stratified, with a fixed seed) as the test split.
    """
    name = f"folder:{path}"
    size = _check_image_size(image_size)
    root = Path(path).expanduser()
    if not root.is_dir():
        raise DatasetUnavailableError(
            f"{name}: no such directory; pass folder:DIR with one sub-folder of images per class"
        )
    files_by_class = _image_files(name, root)
    require_package(name, "PIL", "pillow")
    pixels, labels = [], []
    for label, files in enumerate(files_by_class.values()):
        for file in files:
            pixels.append(_decode(name, file, size))
            labels.append(label)
    x = _stack(name, root, pixels, [file for files in files_by_class.values() for file in files])
    spec = DataSpec(
        name=name,
        kind="image",
        task="classification",
        input_shape=x.shape[1:],
        num_outputs=len(files_by_class),
        class_names=tuple(files_by_class),
        description=f"Images from {root}, one sub-folder per class.",
    )
    splits = split_three_ways(
        x,
        np.asarray(labels, dtype=np.int64),
        seed=seed,
        validation_fraction=validation_fraction,
        test_fraction=test_fraction,
        stratify=True,
    )
    return Dataset(spec, *splits, source=str(root.resolve()))


def _check_image_size(image_size) -> tuple[int, int] | None:
    """(height, width) from an int or a pair, or None."""
    if image_size is None:
        return None
    size = (image_size, image_size) if isinstance(image_size, int) else tuple(image_size)
    if len(size) != 2 or not all(
        isinstance(side, int) and not isinstance(side, bool) and side > 0 for side in size
    ):
        raise ConfigError(
            f"image_size must be a positive int or (height, width). Received: image_size={image_size!r}"
        )
    return size


def _image_files(name: str, root: Path) -> dict[str, list[Path]]:
    """Image files per class folder, both sorted by name; every class must have some."""
    class_dirs = sorted(
        entry for entry in root.iterdir() if entry.is_dir() and not entry.name.startswith(".")
    )
    if len(class_dirs) < 2:
        raise DataFormatError(
            f"{name}: found {len(class_dirs)} class sub-folder(s); put the images of each class "
            "(at least two classes) in their own sub-folder"
        )
    files_by_class = {}
    for class_dir in class_dirs:
        files = sorted(
            entry
            for entry in class_dir.iterdir()
            if entry.is_file() and entry.suffix.lower() in IMAGE_SUFFIXES
        )
        if not files:
            raise DataFormatError(
                f"{name}: class folder {class_dir.name!r} holds no {'/'.join(IMAGE_SUFFIXES)} images"
            )
        files_by_class[class_dir.name] = files
    return files_by_class


def _decode(name: str, file: Path, size: tuple[int, int] | None) -> np.ndarray:
    """One image as uint8 (H, W, 1) for grayscale or (H, W, 3) for colour, resized if asked."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(file) as image:
            image = image.convert("L" if image.mode in GRAYSCALE_MODES else "RGB")
            if size is not None:
                image = image.resize((size[1], size[0]), Image.Resampling.BILINEAR)
            pixels = np.asarray(image)
    except (UnidentifiedImageError, OSError) as error:
        raise DataFormatError(f"{name}: cannot decode {file} ({error})") from None
    return pixels[..., np.newaxis] if pixels.ndim == 2 else pixels


def _stack(name: str, root: Path, pixels: list[np.ndarray], files: list[Path]) -> np.ndarray:
    """All images in one float32 array: grayscale ones repeated to RGB if any image has colour."""
    first_size = pixels[0].shape[:2]
    for image, file in zip(pixels, files, strict=True):
        if image.shape[:2] != first_size:
            raise DataFormatError(
                f"{name}: images differ in size: {files[0].relative_to(root)} is "
                f"{first_size[0]}x{first_size[1]} but {file.relative_to(root)} is "
                f"{image.shape[0]}x{image.shape[1]}; pass image_size=N to resize them"
            )
    channels = max(image.shape[2] for image in pixels)
    return np.stack([np.repeat(image, channels // image.shape[2], axis=2) for image in pixels]).astype(
        np.float32
    )
