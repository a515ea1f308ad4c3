"""Routes of the comments domain."""

from consulta.comments import bp  # noqa: F401
