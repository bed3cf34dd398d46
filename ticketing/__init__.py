"""Work orders (工单) and their life: the ticketing issue builds this package."""
