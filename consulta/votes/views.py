"""Routes of the votes domain."""

from consulta.votes import bp  # noqa: F401
