"""Slack, in one place: events in, replies out, and what both need.

* ``events``: the signed request (``signature_ok``) and the Events API payload parsed
  into a ``SlackMessage`` (``message_from``).
* ``intake``: a message into a ticket, exactly once across processes (``SlackInbox``).
* ``receiver``: the endpoint's work behind the route: filter, de-duplicate, start the
  ticket in a worker thread and acknowledge within Slack's 3 seconds (``SlackReceiver``).
* ``dedupe``: the in-process keys of messages being handled now, and the retention of
  the durable record (``app.store.slack_events``) that decides across processes.
* ``markup``: Slack's wire format to plain text (in) and Markdown to mrkdwn with
  numbered source links (out).
* ``sender``: approved replies from the outbox into the developer's thread.

The route (``app.api.routes.slack``) only reads the request and maps the outcome to a
response; the receiver reaches it through ``app.api.deps``, and the outbox receives the
sender from whoever builds the workers (``app.services.delivery.build_sender``).
"""
