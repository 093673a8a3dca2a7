"""`zoo train` end to end on small real data: outputs in the workdir, reproducibility, export."""

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from zoo.cli.main import main
from zoo.train.trainer import evaluate_saved_model, train


def test_training_writes_checkpoints_logs_metrics_and_model(quick_config):
    result = train(quick_config())
    workdir = result.workdir
    assert sorted(p.name for p in (workdir / "checkpoints").iterdir()) == ["epoch-001.weights.h5", "epoch-002.weights.h5"]
    assert any((workdir / "logs").rglob("events.out.tfevents.*"))
    assert (workdir / "model.keras").exists()
    metrics = json.loads((workdir / "metrics.json").read_text())
    assert metrics["epochs"] == 2 and 0 <= metrics["test"]["accuracy"] <= 1
    assert not (workdir / "backup").exists(), "the crash-recovery backup is removed after a finished run"


def test_summary_table_reports_epochs_throughput_and_test_metrics(quick_config):
    result = train(quick_config())
    table = result.summary_table()
    assert "examples/s" in table and "val_loss" in table and "test accuracy" in table
    assert len(result.history["epoch_seconds"]) == 2 and result.examples_per_second > 0


def test_same_seed_reproduces_the_run(quick_config, tmp_path):
    first = train(quick_config(seed=7, workdir=str(tmp_path / "a")))
    second = train(quick_config(seed=7, workdir=str(tmp_path / "b")))
    assert first.history["loss"] == second.history["loss"]


def test_exported_model_scores_like_the_trained_model(quick_config, tmp_path):
    result = train(quick_config(export_base=str(tmp_path / "models")))
    assert result.export_dir == tmp_path / "models" / "mlp" / "1"
    served = evaluate_saved_model(result.export_dir, result.dataset)
    assert served["accuracy"] == pytest.approx(result.test_metrics["accuracy"], abs=1e-6)


def test_export_input_image_bytes_gives_a_serving_default_that_takes_png_files(quick_config, tmp_path):
    import tensorflow as tf
    from zoo.export.image_inputs import encode_images

    result = train(quick_config(model="cnn", dataset="digits", epochs=1, model_config={"filters": [4]},
                                export_base=str(tmp_path / "models"), export_input="image_bytes"))
    serving_default = tf.saved_model.load(str(result.export_dir)).signatures["serving_default"]
    digits = result.dataset.x_test[:8]  # whole numbers 0..16: a PNG holds them exactly
    received = serving_default(image_bytes=tf.constant(encode_images(digits)))["probabilities"].numpy()
    np.testing.assert_allclose(received, result.model.predict(digits, verbose=0), atol=1e-5)
    # Scoring an export uses its pixels signature whichever input serving_default takes.
    served = evaluate_saved_model(result.export_dir, result.dataset)
    assert served["accuracy"] == pytest.approx(result.test_metrics["accuracy"], abs=1e-6)


def test_image_bytes_for_data_that_is_not_images_fails_in_one_line_before_training(tmp_path, capsys):
    code = main(["train", "mlp", "--dataset", "iris", "--input", "image_bytes", "--workdir", str(tmp_path / "run"),
                 "--export-base", str(tmp_path / "models")])
    error = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in error
    assert error.startswith("zoo train: error: image_bytes needs image data") and error.endswith("Use pixels")
    assert not (tmp_path / "run").exists()


def test_regression_dataset_trains_with_mse_and_reports_mae(quick_config):
    result = train(quick_config(dataset="diabetes"))
    assert set(result.test_metrics) >= {"loss", "mae"}


def test_early_stopping_ends_a_run_that_stops_improving(quick_config):
    result = train(quick_config(epochs=30, early_stopping_patience=1, learning_rate=1e-6, schedule="constant"))
    assert result.epochs_run < 30


def test_mixed_precision_run_exports_float32_outputs(quick_config, tmp_path):
    import keras

    result = train(quick_config(mixed_precision=True, epochs=1, export_base=str(tmp_path / "m")))
    assert keras.mixed_precision.global_policy().name == "float32", "the global policy is restored"
    assert result.model.layers[-1].compute_dtype == "float32"
    served = evaluate_saved_model(result.export_dir, result.dataset)
    assert 0 <= served["accuracy"] <= 1


def test_evaluate_command_scores_workdir_and_savedmodel_alike(quick_config, tmp_path, capsys):
    result = train(quick_config(export_base=str(tmp_path / "models")))
    capsys.readouterr()
    scores = []
    for path in (result.workdir, result.export_dir):
        assert main(["evaluate", str(path), "--dataset", "iris"]) == 0
        scores.append(json.loads(capsys.readouterr().out)["accuracy"])
    assert scores[0] == pytest.approx(scores[1]) == pytest.approx(result.test_metrics["accuracy"])


@pytest.mark.slow
def test_mirrored_on_two_logical_cpus_matches_default_strategy_loss(tmp_path):
    # A fresh process: the CPU can only be split into logical devices before TF initialises.
    script = textwrap.dedent(f"""
        import json
        from zoo.train import TrainConfig
        from zoo.train.trainer import train
        common = dict(model="mlp", dataset="iris", epochs=3, batch_size=32, verbose=0, seed=3,
                      schedule="constant", model_config={{"hidden_units": [32], "dropout": 0.0}})
        mirrored = train(TrainConfig(strategy="mirrored", num_devices=2, workdir="{tmp_path}/m", **common))
        default = train(TrainConfig(strategy="default", workdir="{tmp_path}/d", **common))
        print(json.dumps([mirrored.num_replicas, mirrored.history["loss"], default.history["loss"]]))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    replicas, mirrored_loss, default_loss = json.loads(out.stdout.strip().splitlines()[-1])
    assert replicas == 2
    np.testing.assert_allclose(mirrored_loss, default_loss, rtol=2e-3)


def test_fit_causes_no_keras_warning_about_shuffling_a_dataset(quick_config):
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        train(quick_config(epochs=1))
    assert [str(warning.message) for warning in caught if "shuffle" in str(warning.message)] == []
