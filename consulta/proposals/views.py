"""Routes of the proposals domain."""

from consulta.proposals import bp  # noqa: F401
