"""Choose and build the tf.distribute strategy, and say which role this task plays in its cluster.

The strategy must exist before any model is built. On a machine without accelerators, `mirrored`
splits the CPU into logical devices so the multi-replica code path really runs (and can be
tested) here. That split has to happen before TensorFlow initialises its devices, which is why
the trainer builds the strategy first.

Roles come from TF_CONFIG (zoo/train/tf_config.py): in a multi-worker run only the chief writes
(`is_chief`); in a parameter-server cluster every task runs the same command, and the `worker` and
`ps` tasks serve the cluster instead of training (`cluster_strategy`), so only the chief
coordinates. `auto` follows the cluster TF_CONFIG describes, so a TFJob's pods need no
strategy flag of their own.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import tensorflow as tf

from zoo.errors import ConfigError
from zoo.train.tf_config import cluster_role, use_chief_name

log = logging.getLogger(__name__)

# Environment variables that point at a TPU; TPUClusterResolver with none of them set would
# query the cloud metadata server, which must never happen on an ordinary machine.
TPU_ENV_VARS = ("TPU_NAME", "COLAB_TPU_ADDR", "KUBE_GOOGLE_CLOUD_TPU_ENDPOINTS", "TPU_ACCELERATOR_TYPE")
# The parameter-server cluster's tasks that only serve variables and steps; the chief coordinates.
SERVING_ROLES = ("worker", "ps")


def tpu_configured(tpu: str = "") -> bool:
    return bool(tpu) or any(os.environ.get(name) for name in TPU_ENV_VARS) or any(Path("/dev").glob("accel*"))


def resolve_strategy_name(name: str, tpu: str = "") -> str:
    """`auto`: TPU when one is configured; the cluster's strategy when TF_CONFIG describes one
    (parameter_server with ps tasks, multi_worker with several trainers); mirrored on more than
    one GPU; else default."""
    if name != "auto":
        return name
    if tpu_configured(tpu):
        return "tpu"
    role = cluster_role()
    if role is not None and role.distributed_strategy:
        return role.distributed_strategy
    if len(tf.config.list_physical_devices("GPU")) > 1:
        return "mirrored"
    return "default"


def check_jit_compile(jit_compile: bool, strategy_name: str, tpu: str = "") -> None:
    """`--jit-compile` where no accelerator runs the model: refused where it fails, else a warning.

    On a CPU, XLA makes training slower, not faster (the zoo's CNN trains 13x slower with it in
    benchmarks/training.py: 217 instead of 2,778 examples/s). Under `mirrored` it does not run at
    all: XLA cannot compile a step whose variables are mirrored over the CPU's logical devices,
    and TensorFlow fails in the first step with "Trying to access resource ... located in device
    CPU:1 from device CPU:0". TPUs always compile with XLA, and GPUs gain from it.

    Raises:
        ConfigError: `mirrored` with jit_compile on a machine without a GPU.
    """
    resolved = resolve_strategy_name(strategy_name, tpu)
    if not jit_compile or resolved == "tpu" or tf.config.list_physical_devices("GPU"):
        return
    if resolved == "mirrored":
        raise ConfigError(
            "--jit-compile does not work with --strategy mirrored on a machine without a GPU: XLA cannot "
            "compile a step whose variables are mirrored over logical CPU devices; drop --jit-compile"
        )
    log.warning("--jit-compile on a machine without a GPU makes training slower, not faster (13x slower "
                "for the zoo's CNN in benchmarks/training.py); XLA pays off on GPUs and TPUs")


def split_cpu(num_devices: int) -> list[str]:
    """Split the CPU into `num_devices` logical devices (only possible before TF initialises)."""
    cpu = tf.config.list_physical_devices("CPU")[0]
    existing = tf.config.get_logical_device_configuration(cpu)
    if existing is None or len(existing) != num_devices:
        try:
            tf.config.set_logical_device_configuration(
                cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(num_devices)]
            )
        except RuntimeError:
            have = len(tf.config.list_logical_devices("CPU"))
            if have < num_devices:
                raise ConfigError(
                    f"cannot split the CPU into {num_devices} devices: TensorFlow is already "
                    f"initialised with {have}; build the strategy before anything else runs"
                ) from None
    return [device.name for device in tf.config.list_logical_devices("CPU")[:num_devices]]


def make_strategy(name: str, *, num_devices: int = 2, tpu: str = "") -> tf.distribute.Strategy:
    use_chief_name()  # before any tf.distribute resolver reads TF_CONFIG
    resolved = resolve_strategy_name(name, tpu)
    if resolved == "default":
        return tf.distribute.get_strategy()
    if resolved == "mirrored":
        gpus = tf.config.list_physical_devices("GPU")
        devices = None if gpus else split_cpu(num_devices)
        return tf.distribute.MirroredStrategy(devices=devices)
    if resolved == "multi_worker":
        _require_tf_config("multi_worker", ("worker",))
        from zoo.train.keras_multi_worker import enable_multi_worker_fit

        enable_multi_worker_fit()  # Keras 3's fit fails under this strategy without it
        return tf.distribute.MultiWorkerMirroredStrategy()
    if resolved == "tpu":
        return _tpu_strategy(tpu)
    if resolved == "parameter_server":
        _require_tf_config("parameter_server", ("worker", "ps"))
        return cluster_strategy()  # on worker and ps tasks: serves the cluster until stopped
    raise ConfigError(f"unknown strategy {name!r}")


def _require_tf_config(strategy: str, roles: tuple[str, ...]) -> None:
    role = cluster_role()
    if role is None:
        raise ConfigError(
            f"--strategy {strategy} needs TF_CONFIG describing the cluster; "
            f"set it, or start local workers with `zoo launch --workers N -- zoo train ...`"
        )
    missing = [kind for kind in roles if not role.cluster.get(kind)]
    if missing:
        raise ConfigError(f"--strategy {strategy}: TF_CONFIG's cluster has no {', '.join(missing)} tasks")


def _tpu_strategy(tpu: str) -> tf.distribute.Strategy:
    if not tpu_configured(tpu):
        raise ConfigError("--strategy tpu: no TPU configured; pass --tpu NAME or set TPU_NAME")
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu or None)
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, tf.errors.OpError) as error:
        raise ConfigError(f"--strategy tpu: cannot reach TPU {tpu or '(from environment)'}: {error}") from None
    return tf.distribute.TPUStrategy(resolver)


def is_chief() -> bool:
    """Only the chief writes checkpoints, logs and exports. TF_CONFIG decides, whatever the
    strategy: two processes of one cluster must never both export. Alone, a process is chief."""
    role = cluster_role()
    return role is None or role.is_chief


def is_parameter_server(strategy) -> bool:
    """Keras' fit cannot drive this strategy: the chief trains with zoo/train/parameter_server.py."""
    return isinstance(strategy, tf.distribute.ParameterServerStrategy)


def cluster_strategy() -> tf.distribute.ParameterServerStrategy:
    """The strategy for the chief; on a worker or ps task, serve the cluster until stopped instead.

    Every task of a parameter-server cluster runs the same command, so this is where the roles
    part: only the chief (the coordinator) returns.
    """
    # Workers may come and go; RPCs to them must fail fast so the coordinator can reschedule.
    os.environ.setdefault("GRPC_FAIL_FAST", "use_caller")
    resolver = tf.distribute.cluster_resolver.TFConfigClusterResolver()
    if resolver.task_type in SERVING_ROLES:
        serve_task(resolver)
    return tf.distribute.ParameterServerStrategy(resolver)


def serve_task(resolver) -> None:
    """Runs this process's `worker` or `ps` server and blocks until the process is stopped."""
    server = tf.distribute.Server(
        resolver.cluster_spec(),
        job_name=resolver.task_type,
        task_index=resolver.task_id,
        protocol=resolver.rpc_layer or "grpc",
        start=True,
    )
    log.info("%s %d serving the parameter-server cluster at %s", resolver.task_type, resolver.task_id, server.target)
    print(f"{resolver.task_type} {resolver.task_id} serving; stop it when the chief has finished", flush=True)
    server.join()
