"""The lines a carrier delivers: 12345 itself and department numbers kept alive (双号并存)."""

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
