"""The web API's machinery: route table and OpenAPI, bearer tokens, roles, actors, errors, event streams."""
