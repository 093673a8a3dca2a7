"""`zoo launch`: a local tf.distribute cluster (workers, parameter servers) on 127.0.0.1."""

from zoo.launch.cluster import ClusterPlan, Task, plan_cluster
from zoo.launch.supervisor import LaunchResult, launch

__all__ = ["ClusterPlan", "LaunchResult", "Task", "launch", "plan_cluster"]
