"""The gRPC port: TF Serving's PredictionService and ModelService, the Open Inference Protocol's
GRPCInferenceService, grpc.health.v1 and server reflection.

The `grpc_predict_v2_pb2*` modules are generated from protos/grpc_predict_v2.proto by
scripts/generate_protos.py; never edit them by hand.
"""
