"""The notebooks run top to bottom (nbclient, a real kernel) on small settings, draw their plots,
and are committed without outputs.

Small settings are injected the way papermill does it: a cell with the overrides is inserted right
after the cell tagged "parameters", so the notebook itself keeps the settings a person would use.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# The notebooks need the jupyter stack (nbformat, nbclient, ipykernel) and matplotlib.
nbformat = pytest.importorskip("nbformat", reason="the notebook tests need nbformat, nbclient, ipykernel, matplotlib")
for _module in ("nbclient", "ipykernel", "matplotlib"):
    pytest.importorskip(_module, reason="the notebook tests need nbformat, nbclient, ipykernel, matplotlib")

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"

# name -> (overrides for the suite, how many plots it must draw)
SMALL_SETTINGS = {
    "quickstart": ({"EPOCHS": 2}, 4),
    "finetune_efficientnet_lite0": ({"IMAGE_SIZE": 32, "TRAIN_EXAMPLES": 64, "HEAD_EPOCHS": 1, "FINETUNE_EPOCHS": 1}, 4),
    "rnn_timeseries_co2": ({"EPOCHS": 2}, 3),
}


def with_overrides(notebook, overrides: dict) -> nbformat.NotebookNode:
    index = next(i for i, cell in enumerate(notebook.cells) if "parameters" in cell.metadata.get("tags", []))
    source = "\n".join(f"{name} = {value!r}" for name, value in overrides.items())
    injected = nbformat.v4.new_code_cell(source, metadata={"tags": ["injected-parameters"]})
    notebook.cells.insert(index + 1, injected)
    return notebook


def image_outputs(notebook) -> int:
    return sum("image/png" in output.get("data", {}) for cell in notebook.cells if cell.cell_type == "code"
               for output in cell.outputs)


def test_every_notebook_has_small_settings_for_the_suite():
    assert sorted(path.stem for path in NOTEBOOKS.glob("*.ipynb")) == sorted(SMALL_SETTINGS)


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda path: path.stem)
def test_notebook_is_committed_without_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name} holds outputs"


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SMALL_SETTINGS))
def test_notebook_runs_top_to_bottom_and_draws_its_plots(name, tmp_path, monkeypatch):
    from nbclient import NotebookClient

    overrides, plots = SMALL_SETTINGS[name]
    notebook = with_overrides(nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4), overrides)
    # The kernel inherits this environment: quiet TensorFlow, a private Keras cache, no display.
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    client = NotebookClient(notebook, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    assert image_outputs(notebook) >= plots
    assert (tmp_path / "runs" / "notebooks").is_dir(), "outputs go under the working directory"
    assert os.listdir(tmp_path / "runs" / "notebooks")
