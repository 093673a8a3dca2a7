import pytest

from zoo.train import TrainConfig


@pytest.fixture
def quick_config(tmp_path):
    """A training run small enough for the suite: a small MLP on iris, two epochs."""

    def make(**overrides) -> TrainConfig:
        values = dict(model="mlp", dataset="iris", epochs=2, batch_size=16, strategy="default",
                      workdir=str(tmp_path / "run"), verbose=0, model_config={"hidden_units": [16]})
        values.update(overrides)
        return TrainConfig(**values)

    return make
