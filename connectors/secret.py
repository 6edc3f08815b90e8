"""The type of every secret a connector is given (a password, a client secret, a URL carrying one)."""

from __future__ import annotations


class Secret:
    """A secret value. It prints as *** everywhere (repr, str, f-strings, logs, exceptions) and refuses
    to be pickled, so that it can never be stored by Prefect or sent to another process by accident;
    `reveal()` where it is used. Settings fields may be typed with it (pydantic validates a str into it)."""

    __slots__ = ("_value",)

    def __init__(self, value: str | None):
        self._value = value or ""

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "***"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce_ex__(self, protocol):
        raise TypeError("a Secret is never serialised (pass plain parameters and rebuild the settings)")

    @classmethod
    def __get_pydantic_core_schema__(cls, source, handler):
        from pydantic_core import core_schema

        return core_schema.no_info_plain_validator_function(
            lambda v: v if isinstance(v, cls) else cls(None if v is None else str(v)))
