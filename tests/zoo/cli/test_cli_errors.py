"""Bad CLI input: one line on stderr that says what is wrong, exit status 2, no traceback."""

import subprocess
import sys

import pytest

from tests.support.zoo_cli import run_zoo
from zoo.cli.main import main


def assert_one_line_error(code, err, *fragments):
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0]


def test_unknown_model_names_valid_models(capsys):
    code, _, err = run_zoo(capsys, "train", "no_such_model", "--dataset", "digits")
    assert_one_line_error(code, err, "no_such_model", "cnn")


def test_unknown_dataset_names_valid_datasets(capsys):
    code, _, err = run_zoo(capsys, "train", "mlp", "--dataset", "no_such_data", "--workdir", "/tmp/unused")
    assert_one_line_error(code, err, "no_such_data", "digits")


def test_negative_epochs_is_refused(capsys):
    code, _, err = run_zoo(capsys, "train", "cnn", "--dataset", "digits", "--epochs", "-3")
    assert_one_line_error(code, err, "--epochs", "-3")


def test_missing_config_file_is_named(capsys, tmp_path):
    code, _, err = run_zoo(capsys, "train", "cnn", "--dataset", "digits", "--config", str(tmp_path / "none.yaml"))
    assert_one_line_error(code, err, "none.yaml")


def test_invalid_yaml_config_names_the_line(capsys, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("epochs: 3\nmodel: [cnn\n")
    code, _, err = run_zoo(capsys, "train", "--config", str(path))
    assert_one_line_error(code, err, "bad.yaml", "line")


def test_unknown_config_key_lists_valid_keys(capsys, tmp_path):
    path = tmp_path / "typo.yaml"
    path.write_text("model: cnn\ndataset: digits\nepochz: 3\n")
    code, _, err = run_zoo(capsys, "train", "--config", str(path))
    assert_one_line_error(code, err, "epochz", "epochs")


def test_missing_model_and_dataset_is_explained(capsys):
    code, _, err = run_zoo(capsys, "train")
    assert_one_line_error(code, err, "model")


def test_bad_model_setting_is_refused(capsys, tmp_path):
    code, _, err = run_zoo(capsys, "train", "mlp", "--dataset", "iris", "--set", "no_such_setting=3",
                        "--workdir", str(tmp_path))
    assert_one_line_error(code, err, "no_such_setting")


def test_console_script_help_explains_subcommands():
    result = subprocess.run([sys.executable, "-m", "zoo.cli.main", "train", "--help"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0
    for flag in ("--strategy", "--mixed-precision", "--export-base", "--config", "--seed"):
        assert flag in result.stdout


@pytest.mark.parametrize("command", ["models", "datasets", "train", "evaluate"])
def test_every_subcommand_has_help(capsys, command):
    with pytest.raises(SystemExit) as exit:
        main([command, "--help"])
    assert exit.value.code == 0
    assert len(capsys.readouterr().out) > 100
