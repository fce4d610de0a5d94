"""The single writer: commands and venue events in, journaled events and effects out.

- the facade and its interface: `engine` (`Engine`), `trading` (`Trading`, what the
  entrypoints ask of one engine or a node's engines), `results`;
- the loop: `writer` (batches, group commit, publication after the commit), `handlers`
  (which decision each command maps to), `context`, `dispatch` (venue request lanes),
  `subscriptions`;
- decisions: `placement`, `amendments`, `brackets`, `control`, `signals`, `guards`,
  `venue_events`, `reconcile` (diffs, remedies, the scheduler); the state fold: `state`;
- the outer surface adapters may use (`tests/architecture/test_layering.py`): `ports`
  (the Protocols), `venue_reports`, `records`, `codec`, `chain`, `replay`, `views`,
  `queries`, `ids`, `retry`.
"""
