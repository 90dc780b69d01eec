-- Planner statistics early. A statement table that has never been analysed is estimated at a handful of rows, and the
-- planner then answers "the newest 10 statements" with a bitmap scan of the tenant's whole primary-key range and a sort
-- (measured: 64 ms at 50,000 statements, 200 ms at 100,000) instead of a backward index scan that stops after 10 rows
-- (0.05 ms). The defaults wait for 10-20% of the table to change; these tables grow by appends from the first day, so
-- autovacuum analyses them after 1% (plus 1,000 rows) instead. `lvault store copy` runs ANALYZE itself after a copy.
ALTER TABLE statements SET (autovacuum_analyze_scale_factor = 0.01, autovacuum_analyze_threshold = 1000,
                            autovacuum_vacuum_insert_scale_factor = 0.05);
ALTER TABLE statement_terms SET (autovacuum_analyze_scale_factor = 0.01, autovacuum_analyze_threshold = 1000,
                                 autovacuum_vacuum_insert_scale_factor = 0.05);
ALTER TABLE access_log SET (autovacuum_analyze_scale_factor = 0.01, autovacuum_analyze_threshold = 1000);
