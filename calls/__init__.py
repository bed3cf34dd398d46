"""What happens after an agent answers: transfers, three-way calls, the 110 linkage, live calls."""
