"""`zoo predict` against a real server serving real zoo exports: PNG, CSV and JSON inputs,
text and --json output, and one-line errors."""

import io
import json
import socket

import numpy as np
import pytest
from PIL import Image

from tests.support.zoo_cli import run_zoo
from tests.support.zoo_models import tiny_model
from serving import flags
from serving.server import ModelServer, ServerStartError
from zoo.export import export_saved_model
from zoo.spec import DataSpec

IMAGE_SPEC = DataSpec(name="shapes", kind="image", task="classification", input_shape=(6, 6, 3),
                      num_outputs=3, class_names=("circle", "square", "star"))
TABULAR_SPEC = DataSpec(name="prices", kind="tabular", task="regression", input_shape=(4,), num_outputs=1)


def start_server(model_dirs: dict) -> ModelServer:
    entries = "".join(f'config {{ name: "{name}" base_path: "{path}" model_platform: "tensorflow" }}\n'
                      for name, path in model_dirs.items())
    config = next(iter(model_dirs.values())).parent / "models.config"
    config.write_text(f"model_config_list {{\n{entries}}}\n")
    for _ in range(5):  # another process may take the free port first
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        server = ModelServer(flags.parse_flags([f"--model_config_file={config}", f"--port={port}",
                                                "--grpc_bind_address=127.0.0.1", "--file_system_poll_wait_seconds=0"]))
        try:
            server.start()
        except ServerStartError:
            continue
        return server
    raise RuntimeError("no free port for the test server")


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("exports")
    models = {"shapes": tiny_model(IMAGE_SPEC), "prices": tiny_model(TABULAR_SPEC)}
    export_saved_model(models["shapes"], IMAGE_SPEC, root, "shapes")
    export_saved_model(models["prices"], TABULAR_SPEC, root, "prices")
    server = start_server({name: root / name for name in models})
    yield f"127.0.0.1:{server.port}", models, root
    server.stop(grace=0)


def write_png(path) -> np.ndarray:
    """A 9x7 image; returns the pixels the model sees (bilinear resize to 6x6, as zoo predict does)."""
    pixels = np.random.default_rng(0).integers(0, 256, (7, 9, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)
    return np.asarray(Image.fromarray(pixels).resize((6, 6), Image.Resampling.BILINEAR), np.float32)[None]


def test_png_prints_top_k_labels_with_probabilities_the_model_gives(served, capsys, tmp_path):
    target, models, root = served
    seen = write_png(tmp_path / "drawing.png")
    labels = root / "shapes" / "1" / "assets" / "labels.txt"
    code, out, _ = run_zoo(capsys, "predict", "--server", target, "--model", "shapes", "--labels", str(labels),
                           "--top-k", "2", str(tmp_path / "drawing.png"))
    assert code == 0
    expected = models["shapes"].predict(seen, verbose=0)[0]
    best = np.argsort(-expected)[:2]
    lines = out.strip().splitlines()
    assert lines[0] == f"{tmp_path / 'drawing.png'}:"
    assert len(lines) == 3
    for line, index in zip(lines[1:], best):
        label, probability = line.split()
        assert label == IMAGE_SPEC.class_names[index]
        assert float(probability) == pytest.approx(expected[index], abs=1e-4)


def test_class_names_come_from_the_servers_labels_metadata(served, capsys, tmp_path):
    target, _, _ = served
    write_png(tmp_path / "drawing.png")
    code, out, _ = run_zoo(capsys, "predict", "--server", target, "--model", "shapes", "--json",
                           str(tmp_path / "drawing.png"))
    assert code == 0
    top = json.loads(out)["predictions"][0]["top_k"]
    assert len(top) == 3
    assert [item["label"] for item in top] == [IMAGE_SPEC.class_names[item["class"]] for item in top]
    assert sum(item["probability"] for item in top) == pytest.approx(1.0, abs=1e-5)


def test_csv_prints_the_values_of_each_row_for_a_regressor(served, capsys, tmp_path):
    target, models, _ = served
    rows = np.array([[1, 2, 3, 4], [0.5, 0.25, 8, 16]], dtype=np.float32)
    path = tmp_path / "houses.csv"
    path.write_text("rooms,age,size,floor\n" + "\n".join(",".join(str(v) for v in row) for row in rows) + "\n")
    code, out, _ = run_zoo(capsys, "predict", "--server", target, "--model", "prices", "--version", "1", str(path))
    assert code == 0
    expected = models["prices"].predict(rows, verbose=0)[:, 0]
    lines = out.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == [f"{path}[0]", f"{path}[1]"]
    for line, value in zip(lines, expected):
        printed = float(line.split("values=[")[1].rstrip("]"))
        assert printed == pytest.approx(value, rel=1e-4)


def test_json_on_stdin_gives_machine_readable_json(served, capsys, monkeypatch):
    target, models, _ = served
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps({"instances": [[1, 1, 1, 1]]})))
    code, out, _ = run_zoo(capsys, "predict", "--server", target, "--model", "prices", "--json", "-")
    assert code == 0
    result = json.loads(out)
    assert (result["model"], result["version"]) == ("prices", 1)
    [prediction] = result["predictions"]
    assert (prediction["input"], prediction["example"]) == ("stdin", 0)
    expected = models["prices"].predict(np.ones((1, 4), np.float32), verbose=0)[0, 0]
    assert prediction["outputs"]["values"] == [pytest.approx(expected, rel=1e-5)]


def test_unknown_model_is_a_one_line_error(served, capsys, tmp_path):
    target, _, _ = served
    write_png(tmp_path / "drawing.png")
    code, out, err = run_zoo(capsys, "predict", "--server", target, "--model", "nope", str(tmp_path / "drawing.png"))
    assert code == 2 and out == ""
    assert err.strip() == "zoo predict: error: NOT_FOUND: Servable not found for request: Latest(nope)"


def test_csv_that_does_not_fit_the_input_is_a_one_line_error(served, capsys, tmp_path):
    target, _, _ = served
    path = tmp_path / "short.csv"
    path.write_text("1,2,3\n")
    code, _, err = run_zoo(capsys, "predict", "--server", target, "--model", "prices", str(path))
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "rows have 3 values" in err and "[4]" in err


def test_version_and_label_are_mutually_exclusive(capsys):
    code, _, err = run_zoo(capsys, "predict", "--server", "h:1", "--model", "m", "--version", "1", "--label", "x", "-")
    assert code == 2 and "not allowed with argument" in err


def test_help_lists_input_kinds_and_flags(capsys):
    code, out, _ = run_zoo(capsys, "predict", "--help")
    assert code == 0
    for text in ("PNG", "CSV", "--top-k", "--json", "--label", "--server"):
        assert text in out


@pytest.mark.parametrize("command", [
    ["predict", "--model", "prices", "-"],
    ["bench", "--model", "prices", "--concurrency", "1", "--duration", "0.5", "--warmup", "0"],
])
def test_predict_and_bench_run_on_the_light_client_without_loading_tensorflow(served, command):
    """`zoo predict` and `zoo bench` load tfzoo-client, not TensorFlow: a process that has only
    them imports neither tensorflow nor keras (-X importtime lists every module it loaded)."""
    import subprocess
    import sys

    target, _, _ = served
    out = subprocess.run([sys.executable, "-X", "importtime", "-m", "zoo.cli.main", command[0], "--server", target,
                          *command[1:]], input=json.dumps([[1.0, 2.0, 3.0, 4.0]]), capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    loaded = {line.rsplit("|", 1)[1].strip() for line in out.stderr.splitlines() if line.startswith("import time:")}
    assert "tfzoo_client" in loaded and not {"tensorflow", "keras"} & loaded
