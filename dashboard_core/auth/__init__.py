"""Who may do what: users and API tokens, signed sessions, roles, the login
page and the ASGI middleware that puts all of it in front of the server."""
