-- readings_id_idx (0002, both variants) served one query: the patients of a just-ingested batch,
-- looked up by reading id. The ingest merge returns (id, patient_id, kind) and the pipeline and
-- pairing pass the patients on, so nothing probes readings by id any more; callers that only have
-- ids go through reading_keys (primary key on id) and the row's measured_at. Uniqueness never
-- lived here (see reading_keys), and every ingested row paid a random-uuid b-tree insert per
-- partition / chunk for it.
-- On a partitioned table or a hypertable, dropping the parent index drops the partitions' and
-- chunks' indexes with it.
DROP INDEX IF EXISTS readings_id_idx;
