"""The one error the rating code raises: input it cannot rate, with a message naming why."""


class RatingInputError(ValueError):
    """A vote or count table that cannot be rated as given (bad labels, columns, graph, ...)."""
