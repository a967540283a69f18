-- 0004: the system log packed into pages (events.go, eventpage.go and
-- eventuuid.go explain the layout).
-- A row per event cost about 20 µs of CPU to write; a page holds the
-- events of one org of one AppendEvents batch. After this SQL, packEvents
-- (events.go) moves the rows of events into pages, keeping their Seqs,
-- and drops the table with its indexes.

-- id is the Seq of the page's newest event when it was written: an org's
-- pages ascend by id as their events by Seq. n counts the page's events;
-- min_published and max_published bound their times; types lists their
-- distinct event types and events holds the events (both encoded).
CREATE TABLE event_pages (
	id            INTEGER PRIMARY KEY,
	org_id        TEXT NOT NULL,
	n             INTEGER NOT NULL,
	min_published INTEGER NOT NULL,
	max_published INTEGER NOT NULL,
	types         BLOB NOT NULL,
	events        BLOB NOT NULL
);

-- An org's pages in Seq order (the rowid completes the key).
CREATE INDEX event_pages_by_org ON event_pages (org_id);
-- Since queries: the pages holding an event published since.
CREATE INDEX event_pages_by_org_max_published ON event_pages (org_id, max_published);
-- Until queries and PruneEvents: the pages holding one published before.
CREATE INDEX event_pages_by_org_min_published ON event_pages (org_id, min_published);

-- The pages holding events of a type, in Seq order. Kept by hand, not by
-- a foreign key: a cascade would need another index on page_id.
CREATE TABLE event_page_types (
	org_id     TEXT NOT NULL,
	event_type TEXT NOT NULL,
	page_id    INTEGER NOT NULL,
	PRIMARY KEY (org_id, event_type, page_id)
) WITHOUT ROWID;

-- Event UUIDs, unique (eventuuid.go): the 16 bytes of a canonical UUID
-- (BLOB), else the string (TEXT), each either in one of the runs or in
-- event_uuids. A run holds the sorted keys of one batch, which were all
-- above the runs before it; the runs' [lo, hi] never overlap.
CREATE TABLE event_uuid_runs (
	id   INTEGER PRIMARY KEY,
	lo   BLOB NOT NULL UNIQUE,
	hi   BLOB NOT NULL,
	keys BLOB NOT NULL
);

-- The keys in no run. No declared type, so SQLite keeps each as given.
CREATE TABLE event_uuids (
	uuid PRIMARY KEY
) WITHOUT ROWID;

-- The last event Seq handed out. AUTOINCREMENT kept events.seq above any
-- ever used, pruned or not: sqlite_sequence remembers that number.
INSERT INTO meta (key, value) VALUES ('event_seq', max(
	coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0),
	coalesce((SELECT max(seq) FROM events), 0)));
