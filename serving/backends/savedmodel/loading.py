"""Which TensorFlow runtime serves a SavedModel version: the one place that chooses.

TF Serving loads every SavedModel into a session. Here `tf.saved_model.load` comes first, so every
model it loads keeps the runtime it is served and tested with (SavedModelBackend). It cannot load
some TF1 exports a session loads (early TF 1.x ones whose SignatureDefs carry no shapes): a TF1
export it rejects is loaded into a session instead (SessionBackend), with one log line giving the
first loader's error. A TF2 export it rejects fails as before, with that error.
"""

from __future__ import annotations

import logging
from typing import Sequence

from serving.backends.savedmodel.backend import (SavedModelBackend, read_saved_model,
                                                 signature_defs_of, tagged_meta_graph)
from serving.backends.savedmodel.session_backend import SessionBackend
from serving.core.servable import Backend, ServableLoadError

logger = logging.getLogger("serving.savedmodel")


def load_saved_model(path: str, tags: Sequence[str] = ("serve",)) -> Backend:
    """The SavedModel version at `path`, MetaGraph `tags`, in the runtime that can load it.

    Raises:
        ServableLoadError: the status TF Serving reports (see SavedModelBackend.load); for a TF1
            export that neither runtime loads, the session loader's error, as TF Serving's.
    """
    saved_model = read_saved_model(path)
    signature_defs = signature_defs_of(tagged_meta_graph(saved_model, path, tags))
    try:
        return SavedModelBackend.load(path, tags, signature_defs)
    except ServableLoadError as error:
        if _saved_by_tf2(saved_model):
            raise
        logger.warning("event=savedmodel_session_fallback path=%s tags=%s "
                       "tf_saved_model_load_error=%r", path, ",".join(tags), error.message)
        return SessionBackend.load(path, tags, signature_defs)


def _saved_by_tf2(saved_model) -> bool:
    """tf.saved_model.load's own test (load.py, load_partial): one MetaGraph carrying an object
    graph is a TF2 export; anything else it loads as TF1 (load_v1_in_v2), graph and signatures
    only, which is what a session can load too."""
    return (len(saved_model.meta_graphs) == 1
            and saved_model.meta_graphs[0].HasField("object_graph_def"))
