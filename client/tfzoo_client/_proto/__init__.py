"""TF Serving's, TensorFlow's and the Open Inference Protocol's messages and stubs, compiled for the
client by scripts/generate_protos.py into the modules under this package (from protos/).

They are registered in POOL, a descriptor pool of their own, not in protobuf's default pool:
tensorflow and tensorflow-serving-api register messages of the same names there, and a second
copy fails at import. The wire format does not depend on the pool.
"""

from google.protobuf import descriptor_pool

POOL = descriptor_pool.DescriptorPool()
