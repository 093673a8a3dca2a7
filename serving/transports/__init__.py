"""How requests reach the APIs: gRPC (`grpc`) and HTTP/REST (`rest`). A transport only decodes
its wire format, calls the API under the guard, and encodes the answer."""
