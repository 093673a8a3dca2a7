"""gRPC statuses come back as the project's typed errors, with the server's message."""

import grpc
import pytest

from serving import errors
from tfzoo_client.errors import error_for_status


@pytest.mark.parametrize("cls", [
    errors.InvalidArgument, errors.NotFound, errors.FailedPrecondition, errors.ResourceExhausted,
    errors.Unavailable, errors.DeadlineExceeded, errors.Unauthenticated, errors.Unimplemented,
    errors.Internal,
])
def test_each_status_code_maps_back_to_the_class_the_server_raised(cls):
    error = error_for_status(cls.code, "the server's words")
    assert type(error) is cls
    assert error.code == cls.code and error.message == "the server's words"


def test_status_without_a_class_becomes_a_serving_error_carrying_the_code():
    error = error_for_status(grpc.StatusCode.PERMISSION_DENIED, "no")
    assert type(error) is errors.ServingError
    assert error.code == grpc.StatusCode.PERMISSION_DENIED and error.message == "no"
    assert errors.ServingError.code == grpc.StatusCode.INTERNAL  # the class is left alone
