"""ModelSpec in, ModelSpec out: how a TF Serving request names a servable, and how a reply says
which one answered.
"""

from __future__ import annotations

import contextlib
from typing import Callable, ContextManager, Iterator, TypeVar

from tensorflow_serving.apis import model_pb2

from serving import contract, errors

Response = TypeVar("Response")


def required_model_spec(request) -> model_pb2.ModelSpec:
    """The request's model_spec; InvalidArgument("Missing ModelSpec") when unset, as TF Serving."""
    if not request.HasField("model_spec"):
        raise errors.InvalidArgument("Missing ModelSpec")
    return request.model_spec


def version_choice(model_spec: model_pb2.ModelSpec) -> tuple[int | None, str | None]:
    """(version, label) the spec asks for; (None, None) means the latest version."""
    choice = model_spec.WhichOneof("version_choice")
    version = model_spec.version.value if choice == "version" else None
    label = model_spec.version_label if choice == "version_label" else None
    return version, label


def target(call, model_spec: model_pb2.ModelSpec) -> None:
    """Tells the guard's `call` which model and version the request names."""
    call.target(model_spec.name, *version_choice(model_spec))


def servable_for(manager, model_spec: model_pb2.ModelSpec) -> ContextManager:
    """The manager's handle on the version `model_spec` asks for: latest, a version or a label.

    Raises errors.InvalidArgument("ModelSpec has no name specified.") for an unnamed spec;
    the manager raises NotFound / InvalidArgument for versions and labels it does not serve.
    """
    if not model_spec.name:
        raise errors.InvalidArgument("ModelSpec has no name specified.")
    version, label = version_choice(model_spec)
    return manager.servable(model_spec.name, version=version, label=label)


def answer_on_named_version(manager, model_spec: model_pb2.ModelSpec, call,
                            answer: Callable[[object], Response], *,
                            runs_signature: bool = False) -> Response:
    """`answer(servable)` on the version `model_spec` names (see `named_version`)."""
    with named_version(manager, model_spec, call, runs_signature=runs_signature) as servable:
        return answer(servable)


@contextlib.contextmanager
def named_version(manager, model_spec: model_pb2.ModelSpec, call, *,
                  runs_signature: bool = False) -> Iterator[object]:
    """The version `model_spec` names, held while the block answers on it; tells the guard's
    `call` what was asked, which version answered (when the block succeeds) and, when the API
    `runs_signature`, the signature it runs if the version has it (a made-up name is never a
    metric label)."""
    target(call, model_spec)
    with servable_for(manager, model_spec) as servable:
        if runs_signature:
            note_signature(call, servable, signature_name_of(model_spec))
        yield servable
        call.served_by(servable.version)


def note_signature(call, servable, signature_name: str) -> None:
    """Tells the guard's `call` the signature that runs, once `servable` is known to have it."""
    if signature_name in servable.signature_defs:
        call.signature_name = signature_name


def signature_name_of(model_spec: model_pb2.ModelSpec) -> str:
    """The signature a request means: its signature_name, or "serving_default" when empty."""
    return model_spec.signature_name or contract.DEFAULT_SIGNATURE


def fill_model_spec(target_spec: model_pb2.ModelSpec, name: str, version: int,
                    signature_name: str | None = None) -> None:
    """Writes a response's model_spec as TF Serving's MakeModelSpec does.

    An empty `signature_name` becomes "serving_default"; None leaves it unset (metadata replies).
    """
    target_spec.Clear()
    target_spec.name = name
    target_spec.version.value = version
    if signature_name is not None:
        target_spec.signature_name = signature_name or contract.DEFAULT_SIGNATURE
