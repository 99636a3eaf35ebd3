-- description: The full history of every conversation about a request id the
-- developer quoted (found in the ticket's signals or in any customer message), oldest
-- first.
-- param: request_id text -- The request id as the developer wrote it (req_…).
WITH matching AS (
  SELECT s.ticket_id FROM metric_ticket_signals s
  WHERE s.kind = 'request_id' AND s.value = :request_id
  UNION
  SELECT m.ticket_id FROM ticket_messages m
  WHERE m.kind = 'customer' AND m.text LIKE '%' || CAST(:request_id AS TEXT) || '%'
),
events AS (
  SELECT m.ticket_id, m.created_at AS at, 'message' AS source, m.kind AS kind,
    m.author AS actor, COALESCE(m.event, m.text) AS detail, m.id AS ref
  FROM ticket_messages m
  WHERE m.ticket_id IN (SELECT ticket_id FROM matching)
  UNION ALL
  SELECT t.id, t.created_at, 'message', 'customer', t.reporter, t.message, t.id
  FROM tickets t
  WHERE t.id IN (SELECT ticket_id FROM matching)
    AND NOT EXISTS (SELECT 1 FROM ticket_messages m WHERE m.ticket_id = t.id)
  UNION ALL
  SELECT d.ticket_id, d.created_at, 'draft', d.status, d.approved_by, d.text, d.id
  FROM drafts d
  WHERE d.ticket_id IN (SELECT ticket_id FROM matching)
  UNION ALL
  SELECT r.ticket_id, r.created_at, 'review', r.action, r.reviewer,
    COALESCE(r.reason_code, 'edit distance ' || CAST(r.edit_distance AS TEXT), r.reason), r.id
  FROM review_events r
  WHERE r.ticket_id IN (SELECT ticket_id FROM matching)
  UNION ALL
  SELECT a.ticket_id, a.created_at, 'audit', a.action, a.actor,
    COALESCE(a.from_status, '') || ' -> ' || COALESCE(a.to_status, ''), a.id
  FROM audit_log a
  WHERE a.ticket_id IN (SELECT ticket_id FROM matching)
)
SELECT ticket_id, at, source, kind, actor, detail
FROM events
ORDER BY ticket_id, at, source, ref
