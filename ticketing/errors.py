"""The ticket code's name for the API's typed refusals."""

from hotline.errors import ApiError as TicketError
from hotline.errors import forbidden, invalid, not_found

__all__ = ["TicketError", "forbidden", "invalid", "not_found"]
