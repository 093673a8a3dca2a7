import gzip

import numpy as np
import pytest

from zoo.data import DATASETS, DataFormatError, dataset_spec, load_dataset
from zoo.data import fashion_mnist
from zoo.data.fashion_mnist import DEBIAN_DIR, IDX_FILES
from zoo.data.optional import ENV_VAR, optional_data_hidden
from zoo.errors import DatasetUnavailableError

DEBIAN_FILES = [DEBIAN_DIR / f"{name}.gz" for name in IDX_FILES.values()]
needs_debian_files = pytest.mark.skipif(
    optional_data_hidden() or not all(path.is_file() for path in DEBIAN_FILES),
    reason=f"{ENV_VAR} is set: Debian's dataset-fashion-mnist counts as absent" if optional_data_hidden()
    else f"Debian's dataset-fashion-mnist is not installed ({DEBIAN_DIR})",
)


@pytest.fixture
def tiny_idx_dir(tmp_path, write_idx):
    """A data_dir holding four small, valid Fashion-MNIST-shaped IDX files."""
    rng = np.random.default_rng(0)
    sizes = {"train": 40, "t10k": 10}
    for split, count in sizes.items():
        write_idx(
            tmp_path / f"{split}-images-idx3-ubyte.gz", rng.integers(0, 256, (count, 28, 28), dtype=np.uint8)
        )
        write_idx(tmp_path / f"{split}-labels-idx1-ubyte.gz", np.arange(count, dtype=np.uint8) % 10)
    return tmp_path


@needs_debian_files
def test_loads_the_official_split_from_the_debian_package():
    ds = load_dataset("fashion_mnist", seed=0)
    assert ds.source == f"IDX files in {DEBIAN_DIR}"
    assert (len(ds.x_train), len(ds.x_val), len(ds.x_test)) == (54000, 6000, 10000)
    assert ds.x_train.dtype == np.float32 and ds.x_train.shape[1:] == (28, 28, 1)
    assert ds.x_test.min() == 0 and ds.x_test.max() == 255
    assert np.bincount(ds.y_test).tolist() == [1000] * 10
    assert np.bincount(ds.y_val).tolist() == [600] * 10  # stratified validation split
    assert ds.spec.class_names[:2] == ("T-shirt/top", "Trouser") and ds.spec.class_names[-1] == "Ankle boot"


def test_data_dir_is_searched_first(tiny_idx_dir):
    ds = load_dataset("fashion_mnist", data_dir=str(tiny_idx_dir), seed=0)
    assert ds.source == f"IDX files in {tiny_idx_dir}"
    assert (len(ds.x_train), len(ds.x_val), len(ds.x_test)) == (36, 4, 10)
    assert ds.y_test.tolist() == list(range(10))


def test_uncompressed_idx_files_are_accepted(tiny_idx_dir):
    for path in tiny_idx_dir.glob("*.gz"):
        path.with_suffix("").write_bytes(gzip.decompress(path.read_bytes()))
        path.unlink()
    assert len(load_dataset("fashion_mnist", data_dir=str(tiny_idx_dir)).x_test) == 10


def test_corrupt_file_in_data_dir_is_reported_not_skipped(tiny_idx_dir):
    labels = tiny_idx_dir / "t10k-labels-idx1-ubyte.gz"
    labels.write_bytes(labels.read_bytes()[:-6])
    with pytest.raises(DataFormatError, match="t10k-labels-idx1-ubyte.gz"):
        load_dataset("fashion_mnist", data_dir=str(tiny_idx_dir))


def test_images_of_the_wrong_size_are_rejected(tiny_idx_dir, write_idx):
    write_idx(tiny_idx_dir / "t10k-images-idx3-ubyte.gz", np.zeros((10, 32, 32), np.uint8))
    with pytest.raises(DataFormatError, match=r"expected \(N, 28, 28\)"):
        load_dataset("fashion_mnist", data_dir=str(tiny_idx_dir))


def test_availability_names_the_data_dir_that_has_the_files(tiny_idx_dir):
    from zoo.data import DATASETS

    assert DATASETS["fashion_mnist"].availability(data_dir=str(tiny_idx_dir)) == (
        True,
        f"IDX files in {tiny_idx_dir}",
    )


@pytest.fixture
def debian_dir(tmp_path, monkeypatch):
    """Where the loader looks for Debian's package: an empty folder, whether or not it is installed."""
    folder = tmp_path / "debian"
    folder.mkdir()
    monkeypatch.setattr(fashion_mnist, "DEBIAN_DIR", folder)
    return folder


def test_offline_without_local_files_fails_fast_with_install_advice(
    tmp_path, debian_dir, empty_keras_cache, closed_port, optional_data_searched
):
    missing = tmp_path / "missing"
    with pytest.raises(DatasetUnavailableError) as raised:
        load_dataset("fashion_mnist", data_dir=str(missing), download_origin=f"127.0.0.1:{closed_port}")
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(f"fashion_mnist: not found in --data-dir {missing}, {debian_dir}")
    assert "(offline?)" in message and "`apt-get install dataset-fashion-mnist`" in message


def test_with_optional_data_hidden_the_debian_package_is_not_searched(
    debian_dir, tiny_idx_dir, optional_data_hidden
):
    for path in tiny_idx_dir.glob("*.gz"):  # the package is installed, but hidden
        path.rename(debian_dir / path.name)
    available, where = DATASETS["fashion_mnist"].availability()
    with pytest.raises(DatasetUnavailableError) as raised:
        load_dataset("fashion_mnist")
    message = str(raised.value)
    assert available is False and where == message.removeprefix("fashion_mnist: ")
    assert message.startswith(f"fashion_mnist: not found; ZOO_NO_OPTIONAL_DATA is set, so {debian_dir} and "
                              "the keras cache (")
    assert "nothing is downloaded" in message and "`apt-get install dataset-fashion-mnist`" in message


def test_with_optional_data_hidden_the_data_dir_still_loads(tiny_idx_dir, optional_data_hidden):
    assert load_dataset("fashion_mnist", data_dir=str(tiny_idx_dir)).source == f"IDX files in {tiny_idx_dir}"


def test_the_spec_is_known_without_the_data_and_is_the_loaded_datasets(tiny_idx_dir, optional_data_hidden):
    assert dataset_spec("fashion_mnist") == load_dataset("fashion_mnist", data_dir=str(tiny_idx_dir)).spec
