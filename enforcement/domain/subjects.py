"""The subject of a search: the natural person or organization whose property is searched for.

A ``Subject`` is built by ``Subject.parse`` from what a user or a court system sent: the kind is
checked, the identification number normalized and its check characters verified (resident ID
for a person, unified social credit code for an organization), the name cleaned. Its ``repr``
is masked, so a subject never leaks into a log line or a traceback.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Literal

from enforcement.domain.errors import InvalidSubject
from enforcement.domain.identifiers import normalize_credit_code, normalize_resident_id
from enforcement.domain.privacy import mask_id_number, mask_name

__all__ = ["NAME_MAX_LENGTH", "SUBJECT_KINDS", "Subject", "SubjectKind"]

SubjectKind = Literal["person", "organization"]
SUBJECT_KINDS: tuple[SubjectKind, ...] = ("person", "organization")
NAME_MAX_LENGTH = 100

# Unicode categories refused in a name: controls (Cc), invisible formatting such as bidi
# overrides and zero-width characters (Cf), lone surrogates (Cs), line/paragraph separators.
# Private-use (Co) and unassigned (Cn) code points are accepted: rare characters in Chinese
# names (生僻字) are often stored there by older systems, or newer than Python's Unicode tables.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


@dataclass(frozen=True, repr=False)
class Subject:
    """A person (resident ID) or an organization (unified social credit code), with its name.

    Build it with ``Subject.parse``; the fields hold normalized values.
    """

    kind: SubjectKind
    id_number: str
    name: str

    def __post_init__(self) -> None:
        if self.kind not in SUBJECT_KINDS:
            raise InvalidSubject(rule="kind")

    @classmethod
    def parse(
        cls,
        kind: str,
        id_number: str,
        name: str,
        *,
        allow_checksum_failure: bool = False,
        today: date | None = None,
    ) -> Subject:
        """Validate and normalize a subject.

        ``kind`` is ``person`` or ``organization``. A person's number goes through
        ``normalize_resident_id`` (an old 15-digit number becomes 18 characters); an
        organization's through ``normalize_credit_code``. ``allow_checksum_failure`` is a
        supervisor's audited allowance for an early pilot credit code that fails its check
        characters: it applies to organizations only, never to resident IDs.

        Raises ``InvalidSubject`` (kind, name) or ``InvalidIdentifier`` (number).
        """
        k = kind.strip().lower() if isinstance(kind, str) else ""
        if k not in SUBJECT_KINDS:
            raise InvalidSubject(rule="kind")
        if k == "person":
            number = normalize_resident_id(id_number, today=today)
        else:
            number = normalize_credit_code(id_number, allow_checksum_failure=allow_checksum_failure)
        return cls(kind=k, id_number=number, name=clean_name(name))

    @property
    def key(self) -> str:
        """The stable key of the subject: ``person:<id>`` or ``organization:<code>``."""
        return f"{self.kind}:{self.id_number}"

    def masked(self) -> dict[str, str]:
        """The subject as it may appear in a log: number and name masked."""
        return {
            "kind": self.kind,
            "id_number": mask_id_number(self.id_number),
            "name": mask_name(self.name),
        }

    def __repr__(self) -> str:
        m = self.masked()
        return f"Subject(kind={m['kind']!r}, id_number={m['id_number']!r}, name={m['name']!r})"

    __str__ = __repr__


def clean_name(name: str) -> str:
    """A subject's name: NFC-normalized, stripped, 1-100 characters, no control characters.

    Raises ``InvalidSubject``; the message never repeats the name.
    """
    if not isinstance(name, str):
        raise InvalidSubject(rule="name_empty")
    cleaned = unicodedata.normalize("NFC", name).strip()
    if not cleaned:
        raise InvalidSubject(rule="name_empty")
    if len(cleaned) > NAME_MAX_LENGTH:
        raise InvalidSubject(rule="name_too_long", length=len(cleaned))
    for position, char in enumerate(cleaned, 1):
        if unicodedata.category(char) in _REFUSED_CATEGORIES:
            raise InvalidSubject(rule="name_control_char", position=position)
    return cleaned
