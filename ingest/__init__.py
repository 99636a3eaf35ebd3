"""Documentation into a searchable knowledge base: discovery and loaders (Markdown, MDX,
HTML, OpenAPI), heading-aware chunking, embeddings, passage screening, the Chroma store,
sync (what changed: sync.py; what is stored: index_state.py; writing: chunk_writer.py;
progress and report: sync_report.py) and hybrid retrieval."""
