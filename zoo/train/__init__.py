"""Training: configuration, tf.distribute strategy, callbacks and the training loop."""

from zoo.train.config import TrainConfig, make_config, read_config_file

__all__ = ["TrainConfig", "make_config", "read_config_file"]
