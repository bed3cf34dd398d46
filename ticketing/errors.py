"""The ticket code's name for the API's typed refusals."""

from hotline.kernel.api.errors import ApiError as TicketError
from hotline.kernel.api.errors import forbidden, invalid, not_found

__all__ = ["TicketError", "forbidden", "invalid", "not_found"]
