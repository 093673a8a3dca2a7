"""Running one signature on one tf.lite.Interpreter: set the inputs, invoke, copy the outputs out.

An interpreter has fixed input shapes; a request of other shapes (another batch size, or any
shape: TF Serving resizes a TF Lite input to whatever the request holds) needs its inputs resized
and the tensor memory planned again, which is cheap for the plain kernels but makes delegates
such as XNNPACK (TF Lite's default on CPU) rebuild their plan. Each interpreter therefore keeps
the shapes of its last call and resizes only when they change.

None of this is thread-safe: an interpreter runs one call at a time, which InterpreterPool
guarantees by handing each request its own interpreters.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from serving.backends.tflite.layouts import SignatureLayout


class SignatureInvoker:
    """Runs a signature through TF Lite's SignatureRunner.

    The runner resizes its inputs and calls AllocateTensors on every call; TF Lite makes both
    no-ops when the shapes equal the previous call's (Subgraph::ResizeInputTensor returns early
    on unchanged dims, AllocateTensors when nothing was resized), so the last shapes stay cached
    in the interpreter itself and only a changed batch size costs a new plan.
    """

    def __init__(self, interpreter, layout: SignatureLayout):
        self._runner = interpreter.get_signature_runner(layout.key)

    def __call__(self, feeds: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        return self._runner(**feeds)


class MainGraphInvoker:
    """Runs a signature on the model's main graph through the interpreter's tensor API: the
    serving_default of a model without signatures, or a SignatureDef the model embeds.

    Here the calls are ours to make, so the shapes each input was last allocated for are kept
    and an input is resized (and the memory planned again) only when its shape changes.
    """

    def __init__(self, interpreter, layout: SignatureLayout):
        self._interpreter = interpreter
        self._input_indices = {alias: tensor.index for alias, tensor in layout.inputs.items()}
        self._output_indices = {alias: tensor.index for alias, tensor in layout.outputs.items()}
        self._allocated_shapes: dict[int, tuple[int, ...]] = {}

    def __call__(self, feeds: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        interpreter = self._interpreter
        changed = {self._input_indices[alias]: array.shape for alias, array in feeds.items()
                   if self._allocated_shapes.get(self._input_indices[alias]) != array.shape}
        if changed:
            self._allocated_shapes.clear()  # stays empty if the new plan fails
            for index, shape in changed.items():
                interpreter.resize_tensor_input(index, shape)
            interpreter.allocate_tensors()
            self._allocated_shapes = {self._input_indices[alias]: array.shape
                                      for alias, array in feeds.items()}
        for alias, array in feeds.items():
            interpreter.set_tensor(self._input_indices[alias], array)
        interpreter.invoke()
        # get_tensor copies, so the arrays stay valid once the interpreter runs again.
        return {alias: interpreter.get_tensor(index)
                for alias, index in self._output_indices.items()}


def make_invoker(interpreter, layout: SignatureLayout):
    """The invoker for `layout` on `interpreter`: a SignatureRunner when the model has one."""
    if layout.has_runner:
        return SignatureInvoker(interpreter, layout)
    return MainGraphInvoker(interpreter, layout)
