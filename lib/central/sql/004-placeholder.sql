-- PLACEHOLDER migration 004: another branch's; kept only so that the numbers stay consecutive
-- for this branch's builds (lib/central/embed.py). Dropped at merge. A no-op that
-- returns a command status: central_migrate runs each file expecting one
-- (a bare SELECT 1 returns rows, which it refuses).
DO $$ BEGIN END $$;
