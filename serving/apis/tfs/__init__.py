"""TensorFlow Serving's APIs over the model manager: Predict, Classify, Regress, MultiInference,
metadata, status, config reload, and warmup replay."""
