#!/bin/sh
# The serving image's entrypoint: TensorFlow Serving's image conventions, for zoo-serve.
#
#   docker run -p 8500:8500 -p 8501:8501 -v "$PWD/models:/models:ro" -e MODEL_NAME=mnist tfzoo-serving
#
# serves /models/mnist/<version>/ with gRPC on 8500 and REST on 8501. MODEL_BASE_PATH (default
# /models) is the directory that holds one folder per model. Arguments after the image name are
# passed on to zoo-serve, after ours, so they win (e.g. --enable_batching, or another --port). With
# --model_config_file the config file names the models and MODEL_NAME is not used, as in TF Serving.
set -eu

GRPC_PORT=8500
REST_PORT=8501

for argument in "$@"; do
    case "$argument" in
        --model_config_file=*|--model_config_file)
            exec zoo-serve --port="$GRPC_PORT" --rest_api_port="$REST_PORT" "$@" ;;
    esac
done

exec zoo-serve --port="$GRPC_PORT" --rest_api_port="$REST_PORT" \
    --model_name="${MODEL_NAME:?set MODEL_NAME to the folder under MODEL_BASE_PATH to serve}" \
    --model_base_path="${MODEL_BASE_PATH:-/models}/${MODEL_NAME}" "$@"
