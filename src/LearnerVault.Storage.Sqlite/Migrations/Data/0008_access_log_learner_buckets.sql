-- The learner index of the access log, bucketed by position (4,096 entries a bucket), so that appends touch few pages.
-- Why: (tenant_no, learner, position) puts each new entry at a random place of the whole index (learners are keyed
-- hashes), and in SQLite's WAL every page a commit modifies is written whole: with hundreds of entries a commit, the
-- index cost more log pages than the statements the entries were about (measured: ~14% of server CPU at ingest).
-- With the bucket leading, a commit's entries land in the newest bucket's few pages. A learner's read seeks
-- (tenant, bucket, learner) bucket by bucket, newest first (SqliteAccessLogStore.ReadLearnerAsync), which is cheap for
-- that rare request. The shift must equal SqliteAccessLogStore.LearnerBucketBits.
DROP INDEX access_log_by_learner;
CREATE INDEX access_log_by_learner ON access_log (tenant_no, position >> 12, learner, position) WHERE learner IS NOT NULL;
