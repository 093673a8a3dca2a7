"""`zoo finetune`: adapt a pretrained backbone to a small dataset in two phases.

1. The backbone is frozen and a new head (pooling, dropout, dense) trains at a high rate.
2. The top blocks are unfrozen and everything trainable continues at a lower rate with
   BatchNormalization kept in inference mode. `FinetuneConfig` (zoo/train/config.py) holds the
   defaults and why each was chosen.

The recipe (phases, rates, unfrozen blocks, trainable counts) is written next to the checkpoints
and into the exported model card. A run killed during phase 2 resumes without redoing phase 1.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import keras

from zoo.errors import ConfigError
from zoo.models import get_model_entry
from zoo.train.config import FinetuneConfig
from zoo.train.freezing import freeze_backbone, trainable_summary, unfreeze_top
from zoo.train.trainer import Run, TrainResult, run_training

log = logging.getLogger(__name__)

HEAD_WEIGHTS = "head_phase.weights.h5"
HEAD_RECIPE = "head_phase.json"
RECIPE_FILE = "finetune_recipe.json"


def finetune(config: FinetuneConfig) -> TrainResult:
    entry = get_model_entry(config.model)
    if entry.family != "transfer":
        raise ConfigError(
            f"zoo finetune needs a pretrained backbone (a transfer model). Received: {config.model} "
            f"(family {entry.family}); use `zoo train` for it"
        )
    return run_training(config, lambda run: _two_phases(run, config))


def _two_phases(run: Run, config: FinetuneConfig) -> TrainResult:
    model = run.build_model()
    backbone = model.get_layer("backbone")
    started = time.perf_counter()
    history: dict[str, list[float]] = {}

    freeze_backbone(backbone)
    recipe: dict[str, Any] = {
        "phase1": {"epochs": config.head_epochs, "learning_rate": config.head_learning_rate,
                   "trains": "head only (backbone frozen)", **trainable_summary(model)},
    }
    if config.head_epochs:
        if _restore_head_phase(run, model, config):
            history = json.loads((run.workdir / HEAD_RECIPE).read_text())["history"]
        else:
            history = run.fit(model, learning_rate=config.head_learning_rate, epochs=config.head_epochs,
                              backup_name="backup-head")
            if run.chief:
                model.save_weights(run.workdir / HEAD_WEIGHTS)
                (run.workdir / HEAD_RECIPE).write_text(
                    json.dumps({"config": _head_key(config), "history": history})
                )

    unfrozen = unfreeze_top(backbone, top_blocks=config.unfreeze_top, from_layer=config.unfreeze_from)
    recipe["phase2"] = {
        "epochs": config.finetune_epochs,
        "learning_rate": config.finetune_learning_rate,
        "unfrozen": unfrozen,
        "batch_normalization": "frozen (inference mode)",
        **trainable_summary(model),
    }
    if config.finetune_epochs:
        phase2 = run.fit(model, learning_rate=config.finetune_learning_rate, epochs=config.epochs,
                         initial_epoch=config.head_epochs, backup_name="backup-finetune")
        history = {key: history.get(key, []) + values for key, values in phase2.items()}
    if run.chief:
        (run.workdir / RECIPE_FILE).write_text(json.dumps(recipe, indent=2))
    log.info("fine-tuning recipe: %s", json.dumps(recipe))
    return run.finish(model, history, time.perf_counter() - started, extra_card={"finetune": recipe})


def _head_key(config: FinetuneConfig) -> dict[str, Any]:
    """What must match for a saved phase-1 result to be reused by a restarted run."""
    fields = ("model", "dataset", "weights", "image_size", "head_epochs", "head_learning_rate",
              "batch_size", "seed", "train_examples", "train_fraction", "model_config")
    return json.loads(json.dumps({name: getattr(config, name) for name in fields}, default=str))


def _restore_head_phase(run: Run, model: keras.Model, config: FinetuneConfig) -> bool:
    weights, recipe = run.workdir / HEAD_WEIGHTS, run.workdir / HEAD_RECIPE
    if not (weights.exists() and recipe.exists()):
        return False
    if json.loads(recipe.read_text()).get("config") != _head_key(config):
        log.info("workdir holds a phase-1 result of a different configuration; training the head again")
        return False
    model.load_weights(weights)
    log.info("phase 1 already finished in %s; resuming at phase 2", run.workdir)
    return True
