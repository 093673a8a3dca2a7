import numpy as np
import pytest
from PIL import Image

from zoo.data import DataFormatError, load_dataset
from zoo.errors import ConfigError, DatasetUnavailableError


def _save(path, pixels: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)


@pytest.fixture
def gray_folder(tmp_path):
    """Two classes of 10 grayscale 6x5 PNGs; class "dark" is all 10, class "light" all 200."""
    root = tmp_path / "shades"
    for class_name, value in (("light", 200), ("dark", 10)):
        for i in range(10):
            _save(root / class_name / f"{i:02d}.png", np.full((6, 5), value, np.uint8))
    (root / "light" / "notes.txt").write_text("not an image")
    return root


def test_folder_classes_are_sorted_subfolders_and_grayscale_keeps_one_channel(gray_folder):
    ds = load_dataset(f"folder:{gray_folder}", seed=0)
    assert ds.spec.name == f"folder:{gray_folder}"
    assert ds.spec.class_names == ("dark", "light")
    assert ds.spec.kind == "image" and ds.spec.input_shape == (6, 5, 1)
    assert ds.x_train.dtype == np.float32 and ds.y_train.dtype == np.int64
    x = np.concatenate([ds.x_train, ds.x_val, ds.x_test])
    y = np.concatenate([ds.y_train, ds.y_val, ds.y_test])
    assert len(x) == 20  # the .txt file is ignored
    np.testing.assert_array_equal(x[:, 0, 0, 0], np.where(y == 0, 10.0, 200.0))  # raw pixel values


def test_folder_test_split_is_stratified(gray_folder):
    ds = load_dataset(f"folder:{gray_folder}")
    assert np.bincount(ds.y_test).tolist() == [2, 2]


def test_colour_images_make_every_image_rgb(tmp_path):
    rng = np.random.default_rng(0)
    for i in range(4):
        _save(tmp_path / "cats" / f"{i}.jpg", rng.integers(0, 256, (8, 8, 3), dtype=np.uint8))
        _save(tmp_path / "dogs" / f"{i}.bmp", np.full((8, 8), 77, np.uint8))
    ds = load_dataset(f"folder:{tmp_path}")
    assert ds.spec.input_shape == (8, 8, 3)
    dogs = np.concatenate([ds.x_train[ds.y_train == 1], ds.x_val[ds.y_val == 1], ds.x_test[ds.y_test == 1]])
    assert (dogs == 77).all()


def test_images_of_different_sizes_need_image_size(tmp_path):
    _save(tmp_path / "a" / "big.png", np.zeros((12, 10), np.uint8))
    _save(tmp_path / "b" / "small.png", np.zeros((6, 5), np.uint8))
    with pytest.raises(DataFormatError, match=r"a/big.png is 12x10 but b/small.png is 6x5; pass image_size"):
        load_dataset(f"folder:{tmp_path}")


def test_image_size_resizes_every_image(tmp_path):
    for i in range(3):
        _save(tmp_path / "a" / f"{i}.png", np.zeros((12, 10), np.uint8))
        _save(tmp_path / "b" / f"{i}.png", np.zeros((6, 5), np.uint8))
    ds = load_dataset(f"folder:{tmp_path}", image_size=(4, 7))
    assert ds.x_train.shape[1:] == (4, 7, 1)
    assert load_dataset(f"folder:{tmp_path}", image_size=9).spec.input_shape == (9, 9, 1)


@pytest.mark.parametrize("image_size", [0, (3,), "64", (4, -1)])
def test_invalid_image_size_is_a_config_error(gray_folder, image_size):
    with pytest.raises(ConfigError, match="image_size must be a positive int or"):
        load_dataset(f"folder:{gray_folder}", image_size=image_size)


def test_missing_folder_is_one_line_unavailable_error(tmp_path):
    with pytest.raises(DatasetUnavailableError, match=r"^folder:.*nope: no such directory; pass folder:DIR"):
        load_dataset(f"folder:{tmp_path / 'nope'}")


def test_a_single_class_folder_is_rejected(tmp_path):
    _save(tmp_path / "only" / "0.png", np.zeros((4, 4), np.uint8))
    with pytest.raises(DataFormatError, match=r"found 1 class sub-folder\(s\)"):
        load_dataset(f"folder:{tmp_path}")


def test_undecodable_image_names_the_file(gray_folder):
    (gray_folder / "dark" / "broken.png").write_bytes(b"\x89PNG not really")
    with pytest.raises(DataFormatError, match=r"cannot decode .*dark/broken.png"):
        load_dataset(f"folder:{gray_folder}")
