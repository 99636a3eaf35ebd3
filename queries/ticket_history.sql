-- description: A conversation's full history, oldest first: its messages (customer,
-- agent reply, internal note, system event), drafts, review decisions and audited
-- state changes.
-- param: ticket_id text -- The ticket's id (tkt_…).
WITH events AS (
  SELECT m.created_at AS at, 'message' AS source, m.kind AS kind, m.author AS actor,
    COALESCE(m.event, m.text) AS detail, m.id AS ref
  FROM ticket_messages m
  WHERE m.ticket_id = :ticket_id
  UNION ALL
  -- A ticket nobody acted on yet has no stored messages: its own message is the first.
  SELECT t.created_at, 'message', 'customer', t.reporter, t.message, t.id
  FROM tickets t
  WHERE t.id = :ticket_id
    AND NOT EXISTS (SELECT 1 FROM ticket_messages m WHERE m.ticket_id = t.id)
  UNION ALL
  SELECT d.created_at, 'draft', d.status, d.approved_by, d.text, d.id
  FROM drafts d
  WHERE d.ticket_id = :ticket_id
  UNION ALL
  SELECT r.created_at, 'review', r.action, r.reviewer,
    COALESCE(r.reason_code, 'edit distance ' || CAST(r.edit_distance AS TEXT), r.reason), r.id
  FROM review_events r
  WHERE r.ticket_id = :ticket_id
  UNION ALL
  SELECT a.created_at, 'audit', a.action, a.actor,
    COALESCE(a.from_status, '') || ' -> ' || COALESCE(a.to_status, ''), a.id
  FROM audit_log a
  WHERE a.ticket_id = :ticket_id
)
SELECT at, source, kind, actor, detail
FROM events
ORDER BY at, source, ref
