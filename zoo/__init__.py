"""tfzoo's model zoo: Keras model families, offline datasets, distributed training and export.

Nothing heavy happens at import time: TensorFlow is imported by the modules that need it.
"""

__version__ = "0.1.0"
