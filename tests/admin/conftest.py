"""Fixtures for the admin stories."""

from tests.organisations.fixtures import narni, pending_request, representative, request_form  # noqa: F401
