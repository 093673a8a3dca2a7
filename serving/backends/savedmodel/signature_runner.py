"""Calls one SavedModel signature with as little Python as possible between request and graph.

Calling a loaded signature as `function(x=tensor)` binds the keyword arguments against its
FunctionType, checks distribution contexts and gradient tapes, then runs the graph function
underneath: about 60-80 us of Python per call, as much as a small MLP's whole forward pass. A
SignatureRunner works that out once per signature at load time (input order, dtypes, captured
variable handles) and then hands the graph function its flat tensors directly, which is what
ConcreteFunction does itself when no tape is watching (concrete_function.py, `_call_flat`).

It relies on ConcreteFunction internals (`_arg_keywords`, `_inference_function`) that TensorFlow
2.21 has; where one is missing or does not match the SignatureDef, the runner falls back to the
public keyword call, so the worst case is the old speed, never a wrong answer.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np


class SignatureRunner:
    """Runs `function` (a loaded signature) on checked numpy inputs; returns numpy outputs."""

    def __init__(self, function, signature_def):
        import tensorflow as tf

        self._function = function
        self._dtypes = {alias: tf.dtypes.as_dtype(tensor_info.dtype)
                        for alias, tensor_info in signature_def.inputs.items()}
        self._string_outputs = frozenset(
            alias for alias, tensor_info in signature_def.outputs.items()
            if tensor_info.dtype == tf.string.as_datatype_enum)
        order = tuple(getattr(function, "_arg_keywords", None) or ())
        inference = getattr(function, "_inference_function", None)
        captured = tuple(getattr(function, "captured_inputs", ()))
        self._fast = (
            sorted(order) == sorted(self._dtypes)
            and hasattr(inference, "call_preflattened")
            # Plain tensors only: a distributed variable needs the per-replica handle logic.
            and all(isinstance(value, tf.Tensor) for value in captured))
        self._order = order if self._fast else tuple(sorted(self._dtypes))
        self._inference = inference
        self._captured = list(captured)

    @property
    def direct(self) -> bool:
        """Whether calls skip the keyword binding (False: the public call is used)."""
        return self._fast

    def __call__(self, feeds: Mapping[str, np.ndarray], output_aliases: Sequence[str]
                 ) -> dict[str, np.ndarray]:
        """Raises what TensorFlow raises (OpError, TypeError, ValueError) for bad values."""
        import tensorflow as tf

        tensors = [tf.constant(feeds[alias], dtype=self._dtypes[alias]) for alias in self._order]
        if self._fast:
            outputs = self._inference.call_preflattened(tensors + self._captured)
        else:
            outputs = self._function(**dict(zip(self._order, tensors)))
        return {alias: self._to_numpy(alias, outputs[alias]) for alias in output_aliases}

    def _to_numpy(self, alias: str, tensor) -> np.ndarray:
        if alias in self._string_outputs:
            return np.array(tensor.numpy(), dtype=object)
        # The numpy protocol shares the tensor's buffer (no copy); the array keeps it alive.
        return np.asarray(tensor)
