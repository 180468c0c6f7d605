"""The one exception type that the CLI turns into a short message instead of a traceback."""


class TitoError(Exception):
    """A problem the user can fix: `message` says what is wrong, `hint` what to do."""

    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.message = message
        self.hint = hint
