"""Work orders (工单) from intake to archive: the pure workflow, calendar and policy; the store, the desk
that the API and the CLI call, the knowledge base and the KPIs."""
