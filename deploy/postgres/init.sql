-- Runs once, when the PostgreSQL volume is created: Rasa's trackers get their
-- own database beside the handoff service's (POSTGRES_DB, owned by the same user).
CREATE DATABASE rasa OWNER triage;
