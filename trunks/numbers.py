"""The lines a carrier delivers: 12345 itself and department numbers kept alive (双号并存), and the
number map: which other numbers the carrier delivers (a department's old 8-digit number, the number on
which 110/119/120/122 hand callers to 12345) and which line each one is."""

from __future__ import annotations

from dataclasses import dataclass

MAIN_NUMBER = "12345"


class LineSpecError(ValueError):
    """A line specification is malformed."""


@dataclass(frozen=True)
class Line:
    number: str
    label: str

    @property
    def kept(self) -> bool:
        """A legacy department number that still rings, answered by the platform."""
        return self.number != MAIN_NUMBER


def parse_lines(spec: str) -> tuple[Line, ...]:
    """``"12345,12315=市场监管投诉"`` -> lines; 12345 is always present."""
    lines: dict[str, Line] = {MAIN_NUMBER: Line(MAIN_NUMBER, "政务服务便民热线")}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        number, _, label = item.partition("=")
        number = number.strip()
        if not number.isdigit():
            raise LineSpecError(f"line number must be digits, got {number!r}")
        lines[number] = Line(number, label.strip() or lines.get(number, Line(number, number)).label)
    return tuple(lines.values())


#: The services that hand callers to 12345 on a number of their own (110-12345 联动).
HANDING_SERVICES = ("110", "119", "120", "122")


@dataclass(frozen=True)
class MappedNumber:
    """A number as the carrier delivers it (DID), answered as ``line``."""

    number: str
    line: str
    #: The service that hands callers over on this number: no greeting, first in line, the ticket marked.
    handed_over_by: str = ""


def parse_number_map(spec: str, lines: tuple[Line, ...]) -> tuple[MappedNumber, ...]:
    """``"88001234=12315, 96110=12345:110"`` -> numbers: 88001234 rings as 12315; on 96110, 110 hands
    callers to 12345."""
    known = [line.number for line in lines]  # in order, for the message
    mapped: dict[str, MappedNumber] = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        number, equals, target = (part.strip() for part in item.partition("="))
        line, _, service = (part.strip() for part in target.partition(":"))
        if not equals or not number.isascii() or not number.isdigit():
            raise LineSpecError(f"number map: {item!r} must be NUMBER=LINE or NUMBER=LINE:110")
        if number in known or number in mapped:
            raise LineSpecError(f"number map: {number} is given twice (or is a line itself)")
        if line not in known:
            raise LineSpecError(
                f"number map: {number} goes to {line!r}, which is not a line ({', '.join(known)})"
            )
        if service and service not in HANDING_SERVICES:
            raise LineSpecError(
                f"number map: {number}: {service!r} is not one of {', '.join(HANDING_SERVICES)}"
            )
        mapped[number] = MappedNumber(number, line, service)
    return tuple(mapped.values())
