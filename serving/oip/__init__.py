"""The Open Inference Protocol (KServe v2) over gRPC: `inference.GRPCInferenceService`.

Import the modules directly (`serving.oip.servicer`, `serving.oip.datatypes`...): the servicer
reaches TensorFlow through the model manager, which this package's import deliberately does not.
The `grpc_predict_v2_pb2*` modules are generated from protos/grpc_predict_v2.proto by
scripts/generate_protos.py; never edit them by hand.
"""
