"""`triage demo history`: a simulated, labelled support history written through the real
pipeline and services (arrival process, message mix, the team's scripted actions, the
replay), documented in docs/demo-history.md."""
