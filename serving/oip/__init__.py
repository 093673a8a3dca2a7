"""The Open Inference Protocol (KServe v2) over gRPC: `inference.GRPCInferenceService`.

Import the modules directly (`serving.oip.servicer`, `serving.oip.datatypes`...): the datatype
table imports TensorFlow's dtype enum, and with it TensorFlow, which this package's import
deliberately does not. `serving.oip.inference` and `serving.oip.datatypes` are the
protocol-agnostic half (REST reuses them); `messages`, `servicer` and `reflection` are gRPC's.
The `grpc_predict_v2_pb2*` modules are generated from protos/grpc_predict_v2.proto by
scripts/generate_protos.py; never edit them by hand.
"""
