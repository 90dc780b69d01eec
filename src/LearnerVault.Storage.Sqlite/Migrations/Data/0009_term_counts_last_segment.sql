-- Each term's count remembers the segment that added to it last and how much, so that a merge may add its counts in
-- steps, and a merge redone under the same segment id (after a crash or a failed step) replaces its earlier
-- contribution instead of adding it twice (see SegmentMerge). Counts written before this migration belong to published
-- segments, which are never redone: segment 0 stands for "none".
ALTER TABLE term_counts ADD COLUMN last_segment INTEGER NOT NULL DEFAULT 0;
ALTER TABLE term_counts ADD COLUMN last_n INTEGER NOT NULL DEFAULT 0;
