"""`zoo export`: serve a pretrained ImageNet classifier without training it first."""

from __future__ import annotations

import argparse

from zoo.cli.parser import positive_int
from zoo.spec import IMAGE_BYTES, INPUT_FORMS


def add_parsers(subparsers) -> None:
    export = subparsers.add_parser(
        "export",
        help="export a pretrained ImageNet classifier as a SavedModel, ready to serve",
        description="Export MODEL's ImageNet classifier as published (its 1000-class top and "
        "weights, no training) to EXPORT_BASE/NAME/<next version>/: preprocessing inside the "
        "graph, assets/labels.txt with the ImageNet class names, a model card (weights source, "
        "licence, input contract) and warmup requests. Every export has a `pixels` signature "
        "(decoded RGB pixels) and an `image_bytes` one (encoded JPEG/PNG files, decoded and "
        "resized inside the graph); --input picks serving_default. EfficientNet-Lite0's weights "
        "install with pip and work offline; the keras.applications models' are downloaded once "
        "into the Keras cache (see `zoo models`).",
    )
    export.add_argument("model", help="a model with ImageNet weights, e.g. efficientnet_lite0, resnet50")
    export.add_argument("--weights", choices=("imagenet",), default="imagenet",
                        help="the pretrained weights to export (default: %(default)s)")
    export.add_argument("--export-base", required=True, help="export to EXPORT_BASE/NAME/<next version>/")
    export.add_argument("--export-name", help="model name under --export-base (default: the model name)")
    export.add_argument("--image-size", type=positive_int,
                        help="side of the square images the classifier runs on (default: the size its "
                        "weights were trained at: 224, or 299 for inception_v3)")
    export.add_argument("--input", dest="input_form", choices=INPUT_FORMS, default=IMAGE_BYTES,
                        help="what serving_default takes: encoded image files or decoded pixels "
                        "(default: %(default)s)")
    export.set_defaults(handler=run_export, uses_tensorflow=True)


def run_export(args: argparse.Namespace) -> int:
    from zoo.export.pretrained import export_imagenet_classifier

    version_dir = export_imagenet_classifier(args.model, args.export_base, export_name=args.export_name,
                                             image_size=args.image_size, input_form=args.input_form)
    base_path = version_dir.parent.resolve()
    print(f"exported: {version_dir}  (ImageNet classifier, 1000 classes; serving_default takes {args.input_form})")
    print(f"serve it: zoo-serve --port=8500 --rest_api_port=8501 --model_name={base_path.name} "
          f"--model_base_path={base_path}")
    return 0
