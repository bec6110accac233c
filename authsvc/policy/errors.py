"""The one error of the policy package.

A policy document comes from an administrator's request, so a bad one is a client error,
not a failed ceremony: :class:`PolicyInvalid` is deliberately *not* an ``AuthError`` (it has
no WebAuthn failure code). The admin API maps it to ``malformed`` and may show ``problems``,
which are written by us and never echo raw input.
"""

from __future__ import annotations


class PolicyInvalid(Exception):
    """A policy document was refused; ``problems`` says every reason found, in field order."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems) or "invalid policy")
