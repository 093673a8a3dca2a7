"""The ImageNet class-name list shipped with the package."""

from zoo.weights import imagenet_class_names, imagenet_wordnet_ids


def test_there_are_1000_names_in_the_standard_index_order():
    names = imagenet_class_names()

    assert len(names) == 1000
    assert (names[0], names[1], names[22], names[235], names[985], names[999]) == (
        "tench", "goldfish", "bald eagle", "German shepherd", "daisy", "toilet tissue"
    )


def test_wordnet_ids_are_unique_and_sorted_which_fixes_the_index_order():
    wnids = imagenet_wordnet_ids()

    assert len(set(wnids)) == 1000
    assert wnids == sorted(wnids)
    assert wnids[0] == "n01440764" and wnids[985] == "n11939491"


def test_callers_get_their_own_copy_of_the_names():
    imagenet_class_names()[0] = "changed"

    assert imagenet_class_names()[0] == "tench"
