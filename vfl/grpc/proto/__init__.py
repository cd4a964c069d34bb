"""Generated gRPC stubs for the vfl.v1 wire contract (see protos/)."""
