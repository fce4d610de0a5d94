"""The single writer: commands and venue events in, journaled events and effects out."""
