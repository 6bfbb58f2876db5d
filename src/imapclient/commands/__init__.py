"""The command layer: every operation of the API, defined once for both front ends.

See :mod:`.base` for how operations are written and driven.
"""

from . import auth, base, folders, messages

__all__ = ["auth", "base", "folders", "messages"]
