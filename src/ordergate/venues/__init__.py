"""Venue adapters: each implements `ordergate.engine.ports.Venue`."""
