# syntax=docker/dockerfile:1
# tfzoo's inference server, a drop-in for the tensorflow/serving image:
#
#   docker build -t tfzoo-serving .
#   docker run -p 8500:8500 -p 8501:8501 -v "$PWD/models:/models:ro" -e MODEL_NAME=mnist tfzoo-serving
#
# gRPC (TF Serving's API, KServe v2, health, reflection) on 8500, REST on 8501; models are read
# from /models/$MODEL_NAME/<version>/ (mount them read-only). Extra arguments go to zoo-serve.

ARG PYTHON_VERSION=3.11

# --- build: install tfzoo and its dependencies into a virtual environment -----------------------
FROM python:${PYTHON_VERSION}-slim-bookworm AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/tfzoo
WORKDIR /src
COPY pyproject.toml README.md ./
COPY client ./client
COPY zoo ./zoo
COPY serving ./serving
# The client (tfzoo-client) is a distribution of its own that tfzoo depends on.
RUN /opt/tfzoo/bin/pip install --no-cache-dir ./client . \
    && /opt/tfzoo/bin/zoo-serve --version

# --- runtime: the virtual environment and the entrypoint, run by an unprivileged user ----------
FROM python:${PYTHON_VERSION}-slim-bookworm AS runtime

RUN groupadd --system --gid 10001 serving \
    && useradd --system --uid 10001 --gid serving --home-dir /home/serving --create-home \
       --shell /usr/sbin/nologin serving \
    && mkdir /models \
    && chown serving:serving /models
COPY --from=build /opt/tfzoo /opt/tfzoo
COPY deploy/docker/entrypoint.sh /usr/local/bin/tfzoo-serving-entrypoint
# Prometheus metrics on the REST port, for runtimes that pass it (deploy/kserve/).
COPY deploy/docker/monitoring.config /etc/tfzoo/monitoring.config

ENV PATH=/opt/tfzoo/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    TF_CPP_MIN_LOG_LEVEL=2 \
    MODEL_NAME=model \
    MODEL_BASE_PATH=/models

USER 10001:10001
WORKDIR /home/serving
EXPOSE 8500 8501

# The gRPC health service: SERVING once every model has a version loaded.
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["python", "-m", "serving.healthcheck", "--address", "127.0.0.1:8500", "--timeout", "5"]

ENTRYPOINT ["tfzoo-serving-entrypoint"]
