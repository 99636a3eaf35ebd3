-- description: Drafts that cited a document, with what became of each (outcome as in
-- metric_draft_outcomes; empty for an agent's own reply).
-- param: doc_id text -- The document id as `triage search` shows it (docs/guides/…, no extension).
-- param: since date = 1970-01-01 -- Only drafts written on or after this day.
SELECT c.draft_id, c.ticket_id, c.created_at, c.chunk_id, c.draft_status, o.outcome,
  o.category
FROM metric_draft_citations c
LEFT JOIN metric_draft_outcomes o ON o.draft_id = c.draft_id
WHERE c.doc_id = :doc_id AND c.created_at >= :since
ORDER BY c.created_at, c.draft_id, c.chunk_id
