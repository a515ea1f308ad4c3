"""Fixtures for the organisations stories."""

from tests.organisations.fixtures import narni, pending_request, representative, request_form  # noqa: F401
