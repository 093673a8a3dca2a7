"""The docs page: Swagger UI, served from this port out of the swagger-ui-py package, no CDN.

Why swagger-ui-py: it ships a current Swagger UI (5.x, which renders OpenAPI 3.1; the
swagger-ui-bundle package still ships 4.15, which does not) as plain files. Only those files are
used, read from the package's directory without importing it (its framework glue needs Jinja).

The page offers every model's own document first (its endpoints with bodies made from its
signatures, and a filled-in example for "Try it out") and the document of the whole API; the
initializer script is written per request, so models added by a config reload appear.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import urllib.parse

from serving.errors import ServerStartError

ASSETS = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui-standalone-preset.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon-32x32.png": "image/png",
    "favicon-16x16.png": "image/png",
}
INITIALIZER = "swagger-initializer.js"
DOCS_PATH = "/docs"
_PACKAGE = "swagger_ui"

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>tfzoo model server: REST API</title>
  <link rel="stylesheet" href="{docs}/swagger-ui.css">
  <link rel="icon" type="image/png" href="{docs}/favicon-32x32.png" sizes="32x32">
  <link rel="icon" type="image/png" href="{docs}/favicon-16x16.png" sizes="16x16">
  <style>body {{ margin: 0; }}</style>
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{docs}/swagger-ui-bundle.js" charset="UTF-8"></script>
  <script src="{docs}/swagger-ui-standalone-preset.js" charset="UTF-8"></script>
  <script src="{docs}/{initializer}" charset="UTF-8"></script>
</body>
</html>
""".format(docs=DOCS_PATH, initializer=INITIALIZER).encode("utf-8")


def check_installed() -> None:
    """Raises ServerStartError when the Swagger UI files cannot be found."""
    _static_directory()


@functools.lru_cache(maxsize=None)
def asset(name: str) -> bytes:
    """The bytes of one of ASSETS (read once)."""
    if name not in ASSETS:
        raise KeyError(name)
    with open(os.path.join(_static_directory(), name), "rb") as file:
        return file.read()


def initializer(model_names: list[str], spec_path: str) -> bytes:
    """The script that starts Swagger UI on the models' documents, then the whole API's."""
    urls = [{"url": f"/v1/models/{urllib.parse.quote(name, safe='')}/openapi.json",
             "name": f"Model {name}"} for name in sorted(model_names)]
    urls.append({"url": spec_path, "name": "All endpoints"})
    config = json.dumps({"urls": urls, "urls.primaryName": urls[0]["name"]})
    return (
        "window.onload = function () {\n"
        f"  const config = {config};\n"
        "  window.ui = SwaggerUIBundle(Object.assign(config, {\n"
        '    dom_id: "#swagger-ui",\n'
        "    deepLinking: true,\n"
        "    displayRequestDuration: true,\n"
        "    tryItOutEnabled: false,\n"
        "    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],\n"
        '    layout: "StandaloneLayout"\n'
        "  }));\n"
        "};\n").encode("utf-8")


@functools.lru_cache(maxsize=None)
def _static_directory() -> str:
    spec = importlib.util.find_spec(_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        directory = os.path.join(location, "static")
        if all(os.path.isfile(os.path.join(directory, name)) for name in ASSETS):
            return directory
    raise ServerStartError("--rest_api_docs needs Swagger UI's files from the swagger-ui-py "
                           "package, which is not installed: pip install swagger-ui-py")
