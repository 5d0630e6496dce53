"""Typed client for the Mirakl Seller API."""
