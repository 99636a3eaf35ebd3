-- description: SLA breaches per assigned agent (tickets with SLA clocks only; the
-- unassigned ones together), most breaches first.
-- param: since date = 1970-01-01 -- Only tickets opened on or after this day.
-- param: until date = 9999-12-31 -- Only tickets opened before this day.
SELECT COALESCE(assignee, '(unassigned)') AS agent,
  COUNT(*) AS tickets,
  SUM(sla_breached) AS breached,
  SUM(sla_first_response_breached) AS first_response_breached,
  SUM(sla_next_response_breached) AS next_response_breached,
  SUM(sla_resolution_breached) AS resolution_breached,
  CAST(COUNT(*) - SUM(sla_breached) AS DOUBLE PRECISION) / COUNT(*) AS attainment
FROM metric_tickets
WHERE sla_tracked = 1 AND created_at >= :since AND created_at < :until
GROUP BY COALESCE(assignee, '(unassigned)')
ORDER BY breached DESC, agent
