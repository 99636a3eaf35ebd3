-- description: Categories with more tickets than in the week before (weeks start on
-- Monday, UTC; a category absent the week before counts 0 there), newest week first.
-- param: since date = 1970-01-01 -- Only the weeks from the one holding this day on.
-- param: min_tickets int = 3 -- Ignore a category's week with fewer tickets than this.
WITH weekly AS (
  SELECT week, week_number, COALESCE(category, 'unknown') AS category, COUNT(*) AS tickets
  FROM metric_tickets
  GROUP BY week, week_number, COALESCE(category, 'unknown')
)
SELECT cur.week, cur.category, cur.tickets,
  COALESCE(prev.tickets, 0) AS previous_week_tickets,
  cur.tickets - COALESCE(prev.tickets, 0) AS change,
  CAST(cur.tickets AS DOUBLE PRECISION) / NULLIF(prev.tickets, 0) AS ratio
FROM weekly cur
LEFT JOIN weekly prev
  ON prev.category = cur.category AND prev.week_number = cur.week_number - 1
WHERE cur.tickets > COALESCE(prev.tickets, 0)
  AND cur.tickets >= :min_tickets
  AND cur.week_number >= (SELECT MIN(week_number) FROM metric_tickets WHERE created_at >= :since)
ORDER BY cur.week DESC, change DESC, cur.category
