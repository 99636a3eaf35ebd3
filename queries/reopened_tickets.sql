-- description: Tickets reopened after being solved, most recently reopened first,
-- with how often it happened.
-- param: since date = 1970-01-01 -- Only tickets last reopened on or after this day.
WITH reopened AS (
  SELECT mt.ticket_id, mt.created_at, mt.status, mt.category, mt.priority, mt.assignee,
    mt.reopens,
    (SELECT MAX(m.created_at) FROM ticket_messages m
      WHERE m.ticket_id = mt.ticket_id AND m.kind = 'system' AND m.event = 'reopened')
      AS last_reopened_at
  FROM metric_tickets mt
  WHERE mt.reopens > 0
)
SELECT ticket_id, created_at, last_reopened_at, reopens, status, category, priority, assignee
FROM reopened
WHERE last_reopened_at >= :since
ORDER BY last_reopened_at DESC, ticket_id
