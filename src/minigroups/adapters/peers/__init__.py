"""Clients of the peer services (event, conference, tq), shared by every transport."""
