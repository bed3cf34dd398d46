"""FastAGI call flows: greeting, intake, connecting the caller to an agent."""
