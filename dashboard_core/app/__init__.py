"""The application layer: what the dashboard's two front ends (the API and the pages) call.

- :mod:`~dashboard_core.app.caller`: who asks (a principal and where from), the role check
  written once, and the one typed refusal both front ends show (:class:`Refusal`).
- :mod:`~dashboard_core.app.actions`: every operation that changes something, one function
  each: role check, the operation, the audit line, and the domain's refusals as a Refusal.

A route translates HTTP into a call and the answer back; a page turns a click into a call
and shows the answer. Neither checks a role or writes an audit line itself.
"""
