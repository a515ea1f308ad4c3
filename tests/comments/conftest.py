from tests.participation_factories import (  # noqa: F401  (fixtures)
    as_role,
    cast,
    count_rows,
    create_comment,
    create_follow,
    create_objective,
    create_proposal,
    create_vote,
)
