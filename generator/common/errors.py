"""The one exception the CLI turns into a one-line message and a non-zero exit."""


class InputError(Exception):
    """Bad input: the message names the file (or argument) and the fault."""

    def __init__(self, where, fault: str):
        self.where, self.fault = str(where), fault
        super().__init__(f"{where}: {fault}")
