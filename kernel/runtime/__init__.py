"""Settings, the database, live state in Redis, the event catalogue, logging, retries and the bounded stop."""
