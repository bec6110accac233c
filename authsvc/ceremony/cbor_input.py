"""Hold untrusted CBOR to the rules python-fido2's decoder does not check.

python-fido2 does our CBOR decoding, but its decoder was written to read authenticators, not
hostile clients: a byte or text string that runs past the end is silently shortened, a repeated
map key overwrites the first, every simple value and float (null, undefined, 0xf9-0xfb, whose
payload is not even consumed) decodes as ``False``, and nesting stops only at RecursionError.

So every CBOR item a client sends is first walked here, head by head and without building
values (the well-formedness check of RFC 8949 §5.3.1 / Appendix C), which refuses truncation,
indefinite lengths, reserved additional information, tags and simple values other than
false/true (fido2 cannot represent them faithfully), and nesting deeper than
:data:`MAX_NESTING`. Then fido2 decodes, and the number of data items in its value is compared
with the walk's count: fewer means a duplicate key was merged.

Accepted on purpose: map keys in any order and non-minimal heads (``0x18 0x05`` for 5). Both
decode to exactly one value, real clients wrote them (a 2018 client put ``fmt`` before
``authData``), and py_webauthn, python-fido2 and SimpleWebAuthn accept them. Refusing them
too would turn real authenticators away and buy nothing once ambiguity is refused.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from fido2 import cbor
from fido2.webauthn import AuthenticatorData

from authsvc.errors import Malformed

#: Arrays and maps nested deeper than this are refused, in every CBOR field. CTAP 2.1 §8
#: limits authenticator messages to 4 levels; WebAuthn L3's compound attestation needs 5
#: (object > attStmt array > statement > attStmt > x5c). 8 leaves room for extensions not yet
#: written while keeping a hostile chain of nested maps far from any recursion limit. The
#: deepest nesting in the 90 shared real vectors is 3 (attestation object > attStmt > x5c);
#: their COSE keys nest 1 level, their authenticator extensions 2.
MAX_NESTING = 8

_FALSE, _TRUE = 0xF4, 0xF5
_HEADER_BYTES = 37  # rpIdHash (32), flags (1), signCount (4)
_AT, _ED = 0x40, 0x80
_CREDENTIAL_PREFIX_BYTES = 18  # aaguid (16), credentialIdLength (2, big-endian)


def scan_item(data: bytes, start: int = 0, *, kind: str) -> tuple[int, int]:
    """Walk the one data item at ``start``: return its end offset and how many items it holds.

    A string, number or true/false is one item; an array is one plus its elements' items, a
    map one plus its keys' and values' items. The walk is iterative and builds no values, so
    its cost is one small step per head whatever the input holds.
    """
    end = len(data)
    pos = start
    items = 0
    # remaining[-1]: items still to read in the innermost open array or map; the first entry
    # stands for the top item itself, so len(remaining) is the depth of a container opened now.
    remaining = [1]
    while remaining:
        if not remaining[-1]:
            remaining.pop()
            continue
        remaining[-1] -= 1
        if pos >= end:
            raise Malformed(f"{kind} is truncated")
        initial = data[pos]
        pos += 1
        items += 1
        major, info = initial >> 5, initial & 0x1F
        if major == 7:
            if initial not in (_FALSE, _TRUE):
                raise Malformed(f"{kind} holds a CBOR simple value or float other than true/false")
            continue
        if major == 6:
            raise Malformed(f"{kind} holds a CBOR tag")
        if info < 24:
            argument = info
        elif info < 28:
            size = 1 << (info - 24)
            if pos + size > end:
                raise Malformed(f"{kind} is truncated")
            argument = int.from_bytes(data[pos : pos + size], "big")
            pos += size
        elif info == 31:
            raise Malformed(f"{kind} uses a CBOR indefinite length")
        else:
            raise Malformed(f"{kind} uses reserved CBOR additional information")
        if major in (2, 3):
            pos += argument
            if pos > end:
                raise Malformed(f"{kind} is truncated")
        elif major >= 4:
            if len(remaining) > MAX_NESTING:
                raise Malformed(f"{kind} nests deeper than {MAX_NESTING} levels")
            children = argument if major == 4 else 2 * argument
            if children > end - pos:  # every item takes at least one byte
                raise Malformed(f"{kind} is truncated")
            remaining.append(children)
    return pos, items


def _items(value: object) -> int:
    """The data items in a value fido2 decoded, counted as :func:`scan_item` counts them.

    fido2 builds every array as a list and every map as a dict, and neither can be a dict
    key, so each key is one item. This runs on every registration: it stays a flat loop.
    """
    children: Iterable[object]
    if isinstance(value, dict):
        count, children = 1 + len(value), value.values()
    elif isinstance(value, list):
        count, children = 1, value
    else:
        return 1
    for child in children:
        count += _items(child) if isinstance(child, (dict, list)) else 1
    return count


def _check_count(value: object, scanned: int, kind: str) -> None:
    # Python merges equal keys (and also 1 with true, 0 with false): either way the value
    # no longer says what the bytes did.
    if _items(value) != scanned:
        raise Malformed(f"{kind} has a duplicate map key")


def decode_strict(data: bytes, *, kind: str) -> cbor.CborType:
    """Decode exactly one CBOR item with fido2, refusing what fido2 would let through."""
    end, items = scan_item(data, kind=kind)
    if end != len(data):
        raise Malformed(f"{kind} has trailing bytes")
    try:
        value = cbor.decode(data)
    except (ValueError, TypeError) as exc:  # invalid UTF-8, an array or map as a map key
        raise Malformed(f"{kind} cannot be decoded") from exc
    _check_count(value, items, kind)
    return value


@dataclass(frozen=True, slots=True)
class AuthDataItems:
    """The data items counted in authenticator data's CBOR, to hold fido2's parse against.

    fido2's AuthenticatorData decodes the credential public key and the extensions itself,
    so the walk happens before it parses and the comparison after.
    """

    public_key: int
    extensions: int

    def check(self, parsed: AuthenticatorData) -> None:
        """Refuse a duplicate key that fido2 merged while parsing the same bytes."""
        if parsed.credential_data is not None:
            _check_count(
                parsed.credential_data.public_key, self.public_key, "credential public key"
            )
        if parsed.extensions is not None:
            _check_count(parsed.extensions, self.extensions, "authenticator extensions")


_NO_CBOR = AuthDataItems(public_key=0, extensions=0)


def scan_authenticator_data(raw: bytes) -> AuthDataItems:
    """Walk the CBOR inside authenticator data (WebAuthn §6.1), laid out as fido2 reads it.

    A sign-in's authenticator data is nearly always the bare 37-byte header with neither AT
    nor ED set; that costs two comparisons here, as sign-in is the hot path.
    """
    size = len(raw)
    if size < _HEADER_BYTES:
        raise Malformed("authenticatorData is truncated")
    flags = raw[32]
    if not flags & (_AT | _ED):
        if size != _HEADER_BYTES:
            raise Malformed("authenticatorData has trailing bytes")
        return _NO_CBOR
    pos, public_key, extensions = _HEADER_BYTES, 0, 0
    if flags & _AT:
        pos += _CREDENTIAL_PREFIX_BYTES + int.from_bytes(raw[pos + 16 : pos + 18], "big")
        if pos > size:  # a short slice just above can only make this truer
            raise Malformed("authenticatorData is truncated")
        pos, public_key = _scan_map(raw, pos, "credential public key")
    if flags & _ED:
        pos, extensions = _scan_map(raw, pos, "authenticator extensions")
    if pos != size:
        raise Malformed("authenticatorData has trailing bytes")
    return AuthDataItems(public_key=public_key, extensions=extensions)


def _scan_map(raw: bytes, pos: int, kind: str) -> tuple[int, int]:
    if pos >= len(raw):
        raise Malformed(f"{kind} is missing")
    if raw[pos] >> 5 != 5:
        raise Malformed(f"{kind} is not a CBOR map")
    return scan_item(raw, pos, kind=kind)
