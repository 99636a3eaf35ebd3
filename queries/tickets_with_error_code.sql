-- description: Tickets that mention an error code, in any case: recognised in the
-- ticket's signals (known or unknown codes), or written in its message or a follow-up.
-- param: code text -- The error code (E_AUTH_401).
-- param: since date = 1970-01-01 -- Only tickets opened on or after this day.
WITH needle AS (
  SELECT LOWER(CAST(:code AS TEXT)) AS code
),
pattern AS (
  -- LIKE wildcards in the code match themselves ('!' escapes).
  SELECT '%' || REPLACE(REPLACE(REPLACE(code, '!', '!!'), '%', '!%'), '_', '!_') || '%' AS p
  FROM needle
),
in_signals AS (
  SELECT s.ticket_id FROM metric_ticket_signals s, needle n
  WHERE s.kind IN ('error_code', 'unknown_error_code') AND LOWER(s.value) = n.code
),
in_text AS (
  SELECT t.id AS ticket_id FROM tickets t, pattern p WHERE LOWER(t.message) LIKE p.p ESCAPE '!'
  UNION
  SELECT m.ticket_id FROM ticket_messages m, pattern p
  WHERE m.kind = 'customer' AND LOWER(m.text) LIKE p.p ESCAPE '!'
)
SELECT t.id AS ticket_id, t.created_at, t.status, t.category, t.priority,
  CASE WHEN t.id IN (SELECT ticket_id FROM in_signals) THEN 'signals' ELSE 'text' END
    AS matched_in
FROM tickets t
WHERE t.created_at >= :since
  AND (t.id IN (SELECT ticket_id FROM in_signals) OR t.id IN (SELECT ticket_id FROM in_text))
ORDER BY t.created_at, t.id
