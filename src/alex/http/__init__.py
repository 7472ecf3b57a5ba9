"""The HTTP API: its schemas, routes and error mapping, shared by every door."""
