"""The PaddockError family: errors whose message a user can act on."""


class PaddockError(Exception):
    """A user-facing error; the CLI prints its message on one line and exits with code 2."""


class InputError(PaddockError):
    """A request, file or argument that Paddock cannot accept as given."""


class MediaError(PaddockError):
    """A clip or image that cannot be read, or does not meet what is asked of it."""


class GenerationError(PaddockError):
    """A generator failed to produce a clip."""


class ModerationRefusal(GenerationError):
    """A provider refused the prompt or its result on content grounds; retrying will not help."""


class UnknownGeneratorError(PaddockError):
    """A generator spec names no known generator."""
